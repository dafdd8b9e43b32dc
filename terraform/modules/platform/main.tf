/**
 * The whole platform of one environment: every module, wired together. envs/dev and envs/prod each call
 * this once; only their terraform.tfvars differ (test/infra checks both call it with the same inputs).
 */
locals {
  function_names = toset(keys(var.functions))

  # The secrets each function reads: functions/shared/config.ts FUNCTION_REQUIREMENTS, where production
  # refuses to start without them (test/infra checks the two agree). PROVIDER_KEY_* is one secret per
  # platform provider.
  provider_key_secrets = [for id in var.platform_providers : "PROVIDER_KEY_${upper(replace(id, "-", "_"))}"]
  function_secrets = {
    auth      = ["JWT_SECRETS", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD"]
    projects  = ["JWT_SECRETS"]
    providers = concat(["JWT_SECRETS", "ALERT_WEBHOOK_SECRET"], local.provider_key_secrets)
    jobs      = ["ALERT_WEBHOOK_SECRET"]
  }
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
  cloudsql_service_agent    = module.project.service_agents["cloudsql"]
  storage_service_agent     = module.project.storage_service_agent
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
  depends_on = [module.project, module.network, module.kms]
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
  datatransfer_service_agent = module.project.service_agents["datatransfer"]
  analyst_groups           = var.analyst_groups

  depends_on = [module.project]
}

module "firestore" {
  source                     = "../firestore"
  project_id                 = var.project_id
  environment                = var.environment
  location_id                = var.firestore_location
  region                     = var.region
  firestore_service_agent    = module.project.service_agents["firestore"]
  pipeline_service_account   = module.project.pipeline_service_account
  bigquery_dataset_id        = module.bigquery.dataset_id
  bigquery_snapshot_table_id = module.bigquery.session_snapshots_table_id

  depends_on = [module.project]
}

module "artifacts" {
  source                   = "../artifacts"
  project_id               = var.project_id
  region                   = var.region
  environment              = var.environment
  kms_key_name             = module.kms.artifacts_key
  projects_service_account = module.project.function_service_accounts["projects"]
  jobs_service_account     = module.project.function_service_accounts["jobs"]
  cors_origins             = var.artifact_cors_origins

  # CMEK needs the service agent's key grant before the bucket.
  depends_on = [module.project, module.kms]
}

module "secrets" {
  source           = "../secrets"
  project_id       = var.project_id
  environment      = var.environment
  secrets          = toset(flatten(values(local.function_secrets)))
  readers          = local.function_secrets
  service_accounts = module.project.function_service_accounts

  depends_on = [module.project]
}

module "functions" {
  source                   = "../functions"
  project_id               = var.project_id
  region                   = var.region
  environment              = var.environment
  functions                = var.functions
  runtime                  = var.runtime
  service_accounts         = module.project.function_service_accounts
  build_service_account    = module.project.build_service_account
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
  function_secrets         = local.function_secrets
  secret_ids               = module.secrets.secret_ids
  platform_providers       = var.platform_providers
  mail_from                = var.mail_from
  public_base_url          = var.public_base_url
  artifact_bucket          = module.artifacts.bucket_name
  log_level                = var.log_level

  # A function's deploy fails if its service account cannot read its secrets yet; the APIs first.
  depends_on = [module.project, module.secrets]
}

module "scheduler" {
  source               = "../scheduler"
  project_id           = var.project_id
  region               = var.region
  environment          = var.environment
  jobs_url             = module.functions.urls["jobs"]
  jobs_service_account = module.project.function_service_accounts["jobs"]

  depends_on = [module.project]
}

module "cicd" {
  source      = "../cicd"
  project_id  = var.project_id
  region      = var.region
  environment = var.environment
  network_id  = module.network.network_id

  depends_on = [module.project, module.network]
}
