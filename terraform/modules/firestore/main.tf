/**
 * Firestore (native) holds refresh-token sessions (functions/shared/sessions/firestore.ts). Expired
 * sessions are deleted by the TTL policy on `expiresAt`; the code still checks expiresAt on every read
 * because TTL deletion runs up to a day late.
 */
resource "google_firestore_database" "this" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.location_id
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_firestore_field" "sessions_ttl" {
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = "sessions"
  field      = "expiresAt"

  ttl_config {}
}

# The device map (user agent, ip) is never queried: exempt it from automatic indexing.
resource "google_firestore_field" "sessions_device" {
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = "sessions"
  field      = "device"

  index_config {}
}

# Retirement times of old refresh tokens are read with their document, never queried (the lookup is
# array-contains on retiredTokenHashes): exempt them from automatic indexing too.
resource "google_firestore_field" "sessions_retired_token_at" {
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = "sessions"
  field      = "retiredTokenAt"

  index_config {}
}

/*
 * The store's queries today are single-field equalities (tokenHash, previousTokenHash, familyId, userId),
 * served by Firestore's automatic single-field indexes. The composite indexes below serve the two
 * range queries a session list needs without reading a user's whole history: a user's live sessions
 * (userId == u, revokedAt == null, expiresAt > now) and a family in login order.
 */
locals {
  # Fields of each composite index on sessions, in index order.
  session_indexes = {
    user_live = [
      { field_path = "userId", order = "ASCENDING" },
      { field_path = "revokedAt", order = "ASCENDING" },
      { field_path = "expiresAt", order = "DESCENDING" },
    ]
    user_recent = [
      { field_path = "userId", order = "ASCENDING" },
      { field_path = "createdAt", order = "DESCENDING" },
    ]
    family = [
      { field_path = "familyId", order = "ASCENDING" },
      { field_path = "createdAt", order = "ASCENDING" },
    ]
  }
}

resource "google_firestore_index" "sessions" {
  for_each   = local.session_indexes
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = "sessions"

  dynamic "fields" {
    for_each = each.value
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}

/*
 * Export to BigQuery, scheduled: Firestore has no direct BigQuery export, so a daily managed export
 * writes the sessions collection to GCS and a BigQuery load job (DATASTORE_BACKUP format) appends it to
 * an ingestion-time partitioned table — one snapshot per day, expired by the table's partition
 * expiration. Both are Google API calls made by Cloud Scheduler with an OAuth token of the pipeline
 * service account. Each export overwrites the same prefix, so the load always reads the latest one.
 */
locals {
  export_prefix   = "gs://${google_storage_bucket.exports.name}/sessions/latest"
  export_metadata = "${local.export_prefix}/all_namespaces/kind_sessions/all_namespaces_kind_sessions.export_metadata"
}

resource "google_storage_bucket" "exports" {
  project                     = var.project_id
  name                        = "${var.project_id}-lattice-firestore-exports-${var.environment}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = var.export_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

# The Firestore service agent writes the export files.
resource "google_storage_bucket_iam_member" "firestore_agent" {
  bucket = google_storage_bucket.exports.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${var.firestore_service_agent}"
}

# The pipeline account's load job reads them.
resource "google_storage_bucket_iam_member" "pipeline_reader" {
  bucket = google_storage_bucket.exports.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${var.pipeline_service_account}"
}

resource "google_cloud_scheduler_job" "export" {
  project          = var.project_id
  region           = var.region
  name             = "lattice-firestore-export-${var.environment}"
  description      = "Daily managed export of the sessions collection to GCS."
  schedule         = var.export_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "320s"

  retry_config {
    retry_count = 3
  }

  http_target {
    http_method = "POST"
    uri         = "https://firestore.googleapis.com/v1/projects/${var.project_id}/databases/${google_firestore_database.this.name}:exportDocuments"
    headers     = { "Content-Type" = "application/json" }
    body = base64encode(jsonencode({
      collectionIds   = ["sessions"]
      outputUriPrefix = local.export_prefix
    }))

    # Google APIs take OAuth access tokens; OIDC tokens are for our own endpoints.
    oauth_token {
      service_account_email = var.pipeline_service_account
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
}

resource "google_cloud_scheduler_job" "load" {
  project          = var.project_id
  region           = var.region
  name             = "lattice-firestore-load-${var.environment}"
  description      = "Daily BigQuery load of the latest sessions export."
  schedule         = var.load_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "320s"

  retry_config {
    retry_count = 3
  }

  http_target {
    http_method = "POST"
    uri         = "https://bigquery.googleapis.com/bigquery/v2/projects/${var.project_id}/jobs"
    headers     = { "Content-Type" = "application/json" }
    body = base64encode(jsonencode({
      configuration = {
        load = {
          sourceUris          = [local.export_metadata]
          sourceFormat        = "DATASTORE_BACKUP"
          writeDisposition    = "WRITE_APPEND"
          schemaUpdateOptions = ["ALLOW_FIELD_ADDITION"]
          destinationTable = {
            projectId = var.project_id
            datasetId = var.bigquery_dataset_id
            tableId   = var.bigquery_snapshot_table_id
          }
        }
      }
    }))

    oauth_token {
      service_account_email = var.pipeline_service_account
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
}
