output "worker_pool" {
  description = "Resource name of the private pool (cloudbuild.yaml options.pool.name)."
  value       = google_cloudbuild_worker_pool.private.id
}
