output "function_urls" {
  description = "HTTPS URL of each function."
  value       = module.functions.urls
}

output "function_names" {
  description = "Deployed function names (for gcloud functions deploy)."
  value       = module.functions.names
}

output "source_bucket" {
  description = "Bucket of the per-function source archives and of the release pointer."
  value       = module.functions.source_bucket
}

output "release" {
  description = "Source version the functions run (the release pointer terraform deployed)."
  value       = module.functions.release
}

output "build_service_account" {
  description = "Service account function image builds run as."
  value       = module.project.build_service_account
}

output "sql_connection_name" {
  description = "Cloud SQL connection name (Auth Proxy, INSTANCE_CONNECTION_NAME)."
  value       = module.cloudsql.connection_name
}

output "sql_instance" {
  description = "Cloud SQL primary instance name (scripts/restore-pitr.sh)."
  value       = module.cloudsql.instance_name
}

output "sql_replica_connection_name" {
  description = "Read replica connection name, or null."
  value       = module.cloudsql.replica_connection_name
}

output "sql_iam_users" {
  description = "IAM database user of each service account."
  value       = module.cloudsql.iam_users
}

output "kms_provider_keys_key" {
  description = "KMS_KEY_NAME."
  value       = module.kms.provider_keys_key
}

output "kms_audit_signing_key" {
  description = "Audit signing key (add versions here to rotate)."
  value       = module.kms.audit_signing_key
}

output "secret_ids" {
  description = "Secret Manager secret of each secret environment variable: add a version to each before the first deploy."
  value       = module.secrets.secret_ids
}

output "bigquery_dataset" {
  description = "Event dataset."
  value       = module.bigquery.dataset_id
}

output "bigquery_analyst_dataset" {
  description = "Dataset of the analysts' authorized views."
  value       = module.bigquery.analyst_dataset_id
}

output "deployer_service_account" {
  description = "Service account the Cloud Build trigger runs as."
  value       = module.project.deployer_service_account
}

output "cloudbuild_worker_pool" {
  description = "Private pool for cloudbuild.yaml (_POOL substitution)."
  value       = module.cicd.worker_pool
}

output "scheduler_jobs" {
  description = "Cloud Scheduler job of each jobs endpoint."
  value       = module.scheduler.job_names
}
