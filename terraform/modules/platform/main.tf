/**
 * The whole platform of one environment: every module, wired together. envs/dev and envs/prod each call
 * this once; only their terraform.tfvars differ (test/infra checks both call it with the same inputs).
 */
locals {
  function_names = toset(keys(var.functions))
}

module "project" {
  source      = "../project"
  project_id  = var.project_id
  environment = var.environment
  functions   = local.function_names
}

module "network" {
  source         = "../network"
  project_id     = var.project_id
  region         = var.region
  environment    = var.environment
  subnet_cidr    = var.subnet_cidr
  connector_cidr = var.connector_cidr

  depends_on = [module.project]
}

module "kms" {
  source                    = "../kms"
  project_id                = var.project_id
  region                    = var.region
  environment               = var.environment
  project_number            = module.project.project_number
  protection_level          = var.kms_protection_level
  providers_service_account = module.project.function_service_accounts["providers"]
  auth_service_account      = module.project.function_service_accounts["auth"]
  jobs_service_account      = module.project.function_service_accounts["jobs"]
  verifier_service_accounts = [module.project.function_service_accounts["projects"]]

  depends_on = [module.project]
}

module "cloudsql" {
  source                 = "../cloudsql"
  project_id             = var.project_id
  region                 = var.region
  environment            = var.environment
  network_id             = module.network.network_id
  kms_key_name           = module.kms.cloudsql_key
  tier                   = var.sql_tier
  availability_type      = var.sql_availability_type
  disk_size_gb           = var.sql_disk_size_gb
  max_connections        = var.sql_max_connections
  read_replica           = var.sql_read_replica
  pool_size              = var.pool_size
  function_max_instances = { for fn, f in var.functions : fn => f.max_instances }
  # The functions log in as themselves; the deployer runs migrations (it owns the schema).
  iam_service_accounts = merge(module.project.function_service_accounts, { migrator = module.project.deployer_service_account })

  # Private IP needs the service networking peering, CMEK needs the key grant, before the instance.
  depends_on = [module.network, module.kms]
}

module "bigquery" {
  source                   = "../bigquery"
  project_id               = var.project_id
  environment              = var.environment
  location                 = var.bigquery_location
  dataset_id               = "lattice_events_${var.environment}"
  retention_days           = var.retention_days
  writer_service_account   = module.project.function_service_accounts["jobs"]
  pipeline_service_account = module.project.pipeline_service_account
  project_number           = module.project.project_number
  analyst_groups           = var.analyst_groups

  depends_on = [module.project]
}

module "firestore" {
  source                     = "../firestore"
  project_id                 = var.project_id
  environment                = var.environment
  location_id                = var.firestore_location
  region                     = var.region
  project_number             = module.project.project_number
  pipeline_service_account   = module.project.pipeline_service_account
  bigquery_dataset_id        = module.bigquery.dataset_id
  bigquery_snapshot_table_id = module.bigquery.session_snapshots_table_id

  depends_on = [module.project]
}

module "secrets" {
  source      = "../secrets"
  project_id  = var.project_id
  environment = var.environment
  accessors   = module.project.function_service_accounts

  depends_on = [module.project]
}

module "functions" {
  source                   = "../functions"
  project_id               = var.project_id
  region                   = var.region
  environment              = var.environment
  functions                = var.functions
  source_version           = var.source_version
  service_accounts         = module.project.function_service_accounts
  deployer_service_account = module.project.deployer_service_account
  vpc_connector            = module.network.connector_id
  instance_connection_name = module.cloudsql.connection_name
  db_users                 = module.cloudsql.iam_users
  db_name                  = module.cloudsql.database_name
  pool_size                = var.pool_size
  firestore_database       = module.firestore.database_name
  bigquery_dataset         = module.bigquery.dataset_id
  kms_key_name             = module.kms.provider_keys_key
  audit_signing_key        = module.kms.audit_signing_key
  signing_key_version      = var.signing_key_version
  jwt_secrets_secret_id    = module.secrets.jwt_secrets_secret_id
  log_level                = var.log_level
}

module "scheduler" {
  source               = "../scheduler"
  project_id           = var.project_id
  region               = var.region
  environment          = var.environment
  jobs_url             = module.functions.urls["jobs"]
  jobs_service_account = module.project.function_service_accounts["jobs"]
}

module "cicd" {
  source      = "../cicd"
  project_id  = var.project_id
  region      = var.region
  environment = var.environment
  network_id  = module.network.network_id

  depends_on = [module.network]
}
