terraform {
  # 1.9+: variable validations may refer to other variables.
  required_version = ">= 1.9.0"

  # Pinned exactly: test/infra checks every resource and attribute against this version's schema.
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
    # The same release of the beta provider: google_project_service_identity (modules/project) is beta-only.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "6.50.0"
    }
    # time_sleep: waits for IAM propagation after creating service agents (modules/project).
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }

  # Partial configuration: terraform init -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "lattice-lock/dev"
  }
}
