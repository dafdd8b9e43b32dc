# Production: regional HA primary, a read replica, HSM keys, warm instances. Set project_id.
project_id            = "lattice-lock-prod"
environment           = "prod"
region                = "europe-west1"
firestore_location    = "eur3"
bigquery_location     = "EU"
sql_tier              = "db-custom-8-32768"
sql_availability_type = "REGIONAL"
sql_disk_size_gb      = 200
# (20 + 20 + 40 + 3) instances x 10 connections + 20 reserved = 850
sql_max_connections  = 1000
sql_read_replica     = true
kms_protection_level = "HSM"
mail_from            = "Lattice Lock <no-reply@app.lattice-lock.example>"
public_base_url      = "https://app.lattice-lock.example"
log_level            = "info"
analyst_groups       = ["lattice-analysts@example.com"]

retention_days = {
  request_logs       = 400
  audit_events       = 2555
  daily_usage        = 1825
  session_snapshots  = 30
  request_aggregates = 1825
}

# auth: Argon2id at 64 MiB per hash, 4 at a time per instance (DESIGN §3), so memory bounds it: 1 GiB.
# providers: streaming upstream calls are I/O bound, so high concurrency; the longest stream is 300 s.
functions = {
  auth      = { memory = "1Gi", cpu = "1", min_instances = 1, max_instances = 20, concurrency = 20, timeout_seconds = 60, ingress = "ALLOW_ALL", public = true }
  projects  = { memory = "512Mi", cpu = "1", min_instances = 1, max_instances = 20, concurrency = 40, timeout_seconds = 60, ingress = "ALLOW_ALL", public = true }
  providers = { memory = "1Gi", cpu = "2", min_instances = 2, max_instances = 40, concurrency = 80, timeout_seconds = 300, ingress = "ALLOW_ALL", public = true }
  jobs      = { memory = "512Mi", cpu = "1", min_instances = 0, max_instances = 3, concurrency = 10, timeout_seconds = 300, ingress = "ALLOW_ALL", public = false }
}
