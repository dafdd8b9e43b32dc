/**
 * Cloud SQL for PostgreSQL 15, reachable only on its private IP, TLS required, CMEK, daily backups kept
 * 30 days with point-in-time recovery, query insights, Sunday 04:00 maintenance, and IAM database
 * authentication: the functions log in as their service accounts, so there is no password to leak.
 */
locals {
  instance_name = "lattice-${var.environment}"
  # Every instance of every function may hold a full pool at once.
  connection_demand    = sum([for fn, max in var.function_max_instances : max * var.pool_size])
  required_connections = local.connection_demand + var.reserved_connections

  database_flags = {
    "cloudsql.iam_authentication" = "on"
    "max_connections"             = tostring(var.max_connections)
    "log_checkpoints"             = "on"
    "log_lock_waits"              = "on"
    "log_min_duration_statement"  = "1000"
    "log_temp_files"              = "0"
  }
}

resource "google_sql_database_instance" "primary" {
  project             = var.project_id
  name                = local.instance_name
  region              = var.region
  database_version    = "POSTGRES_15"
  encryption_key_name = var.kms_key_name
  # Terraform refuses to destroy it; settings.deletion_protection_enabled makes the API refuse too.
  deletion_protection = true

  settings {
    tier                        = var.tier
    edition                     = "ENTERPRISE"
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = true
    retain_backups_on_delete    = true

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = var.network_id
      ssl_mode                                      = "ENCRYPTED_ONLY"
      enable_private_path_for_google_cloud_services = true
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "02:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = var.log_retention_days

      backup_retention_settings {
        retained_backups = var.backup_retention_days
        retention_unit   = "COUNT"
      }
    }

    insights_config {
      query_insights_enabled  = true
      query_plans_per_minute  = 5
      query_string_length     = 1024
      record_application_tags = true
      record_client_address   = false
    }

    # Sunday (7) 04:00 UTC.
    maintenance_window {
      day          = 7
      hour         = 4
      update_track = "stable"
    }

    dynamic "database_flags" {
      for_each = local.database_flags
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }

    user_labels = {
      app         = "lattice-lock"
      environment = var.environment
    }
  }

  lifecycle {
    precondition {
      condition     = var.max_connections >= local.required_connections
      error_message = "max_connections is below the sum of every function's max instances x pool size plus the reserve."
    }
  }
}

# Reads for analytics-style queries; same private-only, TLS-only, CMEK settings. Replicas have no
# backups of their own (the primary's cover them) but keep deletion protection.
resource "google_sql_database_instance" "replica" {
  count                = var.read_replica ? 1 : 0
  project              = var.project_id
  name                 = "${local.instance_name}-replica"
  region               = var.region
  database_version     = "POSTGRES_15"
  master_instance_name = google_sql_database_instance.primary.name
  encryption_key_name  = var.kms_key_name
  deletion_protection  = true

  replica_configuration {
    failover_target = false
  }

  settings {
    tier                        = var.tier
    edition                     = "ENTERPRISE"
    availability_type           = "ZONAL"
    disk_type                   = "PD_SSD"
    disk_autoresize             = true
    deletion_protection_enabled = true

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    insights_config {
      query_insights_enabled = true
      query_string_length    = 1024
    }

    # No maintenance_window: read replicas do not take one of their own. Cloud SQL updates them with
    # their primary, replicas first and the primary last
    # (https://cloud.google.com/sql/docs/postgres/self-service-maintenance, "read replicas").

    # A replica's max_connections may not be lower than the primary's.
    dynamic "database_flags" {
      for_each = local.database_flags
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }
}

resource "google_sql_database" "app" {
  project  = var.project_id
  instance = google_sql_database_instance.primary.name
  name     = var.database_name
}

# IAM database users: PostgreSQL names a service account user by its email without ".gserviceaccount.com".
resource "google_sql_user" "iam" {
  for_each = var.iam_service_accounts
  project  = var.project_id
  instance = google_sql_database_instance.primary.name
  name     = trimsuffix(each.value, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

check "max_connections_fit" {
  assert {
    condition     = var.max_connections >= local.required_connections
    error_message = "max_connections (${var.max_connections}) < ${local.connection_demand} (sum of max instances x pool ${var.pool_size}) + ${var.reserved_connections} reserved."
  }
}
