output "urls" {
  description = "HTTPS URL of each function."
  value       = { for fn, f in google_cloudfunctions2_function.this : fn => f.url }
}

output "names" {
  description = "Deployed name of each function (gcloud functions deploy NAME)."
  value       = local.names
}

output "services" {
  description = "Underlying Cloud Run service of each function."
  value       = { for fn, f in google_cloudfunctions2_function.this : fn => f.service_config[0].service }
}

output "source_bucket" {
  description = "Bucket of the per-function source archives."
  value       = google_storage_bucket.source.name
}

output "release" {
  description = "Source version the functions were deployed from (releases/current)."
  value       = local.release
}
