# google_project_service_identity exists only in the google-beta provider (6.50.0, pinned by the envs);
# time_sleep waits for IAM propagation.
terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
    google-beta = {
      source = "hashicorp/google-beta"
    }
    time = {
      source = "hashicorp/time"
    }
  }
}
