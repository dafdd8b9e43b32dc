output "dataset_id" {
  description = "Dataset of the event tables (BIGQUERY_DATASET)."
  value       = google_bigquery_dataset.events.dataset_id
}

output "analyst_dataset_id" {
  description = "Dataset of the analysts' authorized views."
  value       = google_bigquery_dataset.analyst.dataset_id
}

output "session_snapshots_table_id" {
  description = "Table the Firestore sessions export loads into."
  value       = google_bigquery_table.session_snapshots.table_id
}

output "tables" {
  description = "Event table ids."
  value       = [for t in google_bigquery_table.event : t.table_id]
}
