output "database_name" {
  description = "Firestore database id (FIRESTORE_DATABASE)."
  value       = google_firestore_database.this.name
}

output "export_bucket" {
  description = "Bucket holding the daily sessions export."
  value       = google_storage_bucket.exports.name
}
