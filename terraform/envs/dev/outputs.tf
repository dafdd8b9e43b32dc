# The platform's outputs (described in modules/platform/outputs.tf), for terraform output <name>.
output "function_urls" { value = module.platform.function_urls }
output "function_names" { value = module.platform.function_names }
output "source_bucket" { value = module.platform.source_bucket }
output "sql_connection_name" { value = module.platform.sql_connection_name }
output "sql_instance" { value = module.platform.sql_instance }
output "sql_replica_connection_name" { value = module.platform.sql_replica_connection_name }
output "sql_iam_users" { value = module.platform.sql_iam_users }
output "kms_provider_keys_key" { value = module.platform.kms_provider_keys_key }
output "kms_audit_signing_key" { value = module.platform.kms_audit_signing_key }
output "secret_ids" { value = module.platform.secret_ids }
output "release" { value = module.platform.release }
output "build_service_account" { value = module.platform.build_service_account }
output "bigquery_dataset" { value = module.platform.bigquery_dataset }
output "bigquery_analyst_dataset" { value = module.platform.bigquery_analyst_dataset }
output "deployer_service_account" { value = module.platform.deployer_service_account }
output "cloudbuild_worker_pool" { value = module.platform.cloudbuild_worker_pool }
output "scheduler_jobs" { value = module.platform.scheduler_jobs }
