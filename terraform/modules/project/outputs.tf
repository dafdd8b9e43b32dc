output "function_service_accounts" {
  description = "Service account email of each function, by function name."
  value       = { for fn, sa in google_service_account.function : fn => sa.email }
}

output "pipeline_service_account" {
  description = "Email of the data pipeline service account."
  value       = google_service_account.pipeline.email
}

output "deployer_service_account" {
  description = "Email of the Cloud Build deployer service account."
  value       = google_service_account.deployer.email
}

output "project_number" {
  description = "Project number, used to name Google-managed service agents."
  value       = data.google_project.this.number
}

output "apis" {
  description = "Enabled APIs (depend on this to order resources after enablement)."
  value       = [for s in google_project_service.apis : s.service]
}

output "build_service_account" {
  description = "Email of the service account function image builds run as."
  value       = google_service_account.build.email
}

output "service_agents" {
  description = "Email of each Google service agent this configuration grants roles to (cloudsql, firestore, datatransfer), available once IAM has had time to propagate."
  value       = time_sleep.agents_propagation.triggers
}

output "storage_service_agent" {
  description = "Email of the project's Cloud Storage service agent (CMEK of the artifacts bucket)."
  value       = data.google_storage_project_service_account.gcs.email_address
}
