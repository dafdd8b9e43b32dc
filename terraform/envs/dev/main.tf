/**
 * The dev root: provider, backend (versions.tf) and the platform. Everything else is in
 * ../../modules/platform, shared with prod; only terraform.tfvars differs.
 */
provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app         = "lattice-lock"
    environment = var.environment
    managed-by  = "terraform"
  }
}

provider "google-beta" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app         = "lattice-lock"
    environment = var.environment
    managed-by  = "terraform"
  }
}

module "platform" {
  source                = "../../modules/platform"
  project_id            = var.project_id
  region                = var.region
  environment           = var.environment
  firestore_location    = var.firestore_location
  bigquery_location     = var.bigquery_location
  subnet_cidr           = var.subnet_cidr
  connector_cidr        = var.connector_cidr
  sql_tier              = var.sql_tier
  sql_availability_type = var.sql_availability_type
  sql_disk_size_gb      = var.sql_disk_size_gb
  sql_max_connections   = var.sql_max_connections
  sql_read_replica      = var.sql_read_replica
  pool_size             = var.pool_size
  kms_protection_level  = var.kms_protection_level
  signing_key_version   = var.signing_key_version
  functions             = var.functions
  mail_from             = var.mail_from
  public_base_url       = var.public_base_url
  retention_days        = var.retention_days
  analyst_groups        = var.analyst_groups
  log_level             = var.log_level
}
