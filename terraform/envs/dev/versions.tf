terraform {
  # 1.9+: variable validations may refer to other variables.
  required_version = ">= 1.9.0"

  # Pinned exactly: test/infra checks every resource and attribute against this version's schema.
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
  }

  # Partial configuration: terraform init -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "lattice-lock/dev"
  }
}
