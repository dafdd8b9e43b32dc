output "bucket_name" {
  description = "Name of the artifacts bucket (ARTIFACT_BUCKET)."
  value       = google_storage_bucket.artifacts.name
}
