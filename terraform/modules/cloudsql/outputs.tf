output "connection_name" {
  description = "project:region:instance, for INSTANCE_CONNECTION_NAME and the Auth Proxy."
  value       = google_sql_database_instance.primary.connection_name
}

output "instance_name" {
  description = "Name of the primary instance (restore-pitr.sh clones it)."
  value       = google_sql_database_instance.primary.name
}

output "replica_connection_name" {
  description = "Connection name of the read replica, or null without one."
  value       = var.read_replica ? google_sql_database_instance.replica[0].connection_name : null
}

output "private_ip" {
  description = "Private IP of the primary."
  value       = google_sql_database_instance.primary.private_ip_address
}

output "database_name" {
  description = "The application database."
  value       = google_sql_database.app.name
}

output "iam_users" {
  description = "PostgreSQL user name of each IAM service account, by short name (DB_USER)."
  value       = { for k, u in google_sql_user.iam : k => u.name }
}

output "required_connections" {
  description = "Connections the functions may open at full scale plus the reserve."
  value       = local.required_connections
}
