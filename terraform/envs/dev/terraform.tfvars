# Development: small, zonal, no replica. Set project_id to your dev project.
project_id            = "lattice-lock-dev"
environment           = "dev"
region                = "europe-west1"
firestore_location    = "europe-west1"
bigquery_location     = "EU"
sql_tier              = "db-custom-1-3840"
sql_availability_type = "ZONAL"
sql_disk_size_gb      = 20
# (3 + 3 + 4 + 1) instances x 10 connections + 20 reserved = 130
sql_max_connections  = 150
sql_read_replica     = false
kms_protection_level = "SOFTWARE"
mail_from            = "Lattice Lock <no-reply@dev.lattice-lock.example>"
public_base_url      = "https://dev.lattice-lock.example"
log_level            = "debug"
analyst_groups       = []

retention_days = {
  request_logs       = 30
  audit_events       = 90
  daily_usage        = 90
  session_snapshots  = 7
  request_aggregates = 90
}

functions = {
  auth      = { memory = "1Gi", cpu = "1", min_instances = 0, max_instances = 3, concurrency = 20, timeout_seconds = 60, ingress = "ALLOW_ALL", public = true }
  projects  = { memory = "512Mi", cpu = "1", min_instances = 0, max_instances = 3, concurrency = 40, timeout_seconds = 60, ingress = "ALLOW_ALL", public = true }
  providers = { memory = "512Mi", cpu = "1", min_instances = 1, max_instances = 4, concurrency = 80, timeout_seconds = 300, ingress = "ALLOW_ALL", public = true }
  jobs      = { memory = "512Mi", cpu = "1", min_instances = 0, max_instances = 1, concurrency = 10, timeout_seconds = 300, ingress = "ALLOW_ALL", public = false }
}
