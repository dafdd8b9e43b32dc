/**
 * The event sink's dataset. Table schemas are the JSON files in terraform/bigquery/schemas, which the
 * code validates events against too. Tables are day-partitioned on the event time with partition
 * expiration, clustered, require a partition filter (no accidental full scans) and are protected from
 * deletion. Delivery is at least once (insertId = event_id), so readers use the *_dedup views.
 * Analysts get a second dataset of authorized views: they can query those, never the tables.
 */
locals {
  schema_dir = "${path.module}/../../bigquery/schemas"
  day_ms     = 86400000

  event_tables = {
    request_logs = { partition_field = "occurred_at", clustering = ["org_id", "provider", "model"], retention = var.retention_days.request_logs }
    audit_events = { partition_field = "occurred_at", clustering = ["org_id", "action"], retention = var.retention_days.audit_events }
    daily_usage  = { partition_field = "day", clustering = ["org_id", "provider", "model"], retention = var.retention_days.daily_usage }
  }
  schemas = { for name, _ in local.event_tables : name => jsondecode(file("${local.schema_dir}/${name}.json")) }

  analyst_columns = {
    for name, fields in local.schemas : name => [for f in fields : f.name if !contains(var.analyst_hidden_columns, f.name)]
  }
}

resource "google_bigquery_dataset" "events" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  friendly_name              = "Lattice Lock events (${var.environment})"
  location                   = var.location
  delete_contents_on_destroy = false
  labels                     = { app = "lattice-lock", environment = var.environment }
}

resource "google_bigquery_dataset" "analyst" {
  project                    = var.project_id
  dataset_id                 = "${var.dataset_id}_analyst"
  friendly_name              = "Lattice Lock analyst views (${var.environment})"
  location                   = var.location
  delete_contents_on_destroy = false
  labels                     = { app = "lattice-lock", environment = var.environment }
}

resource "google_bigquery_table" "event" {
  for_each                 = local.event_tables
  project                  = var.project_id
  dataset_id               = google_bigquery_dataset.events.dataset_id
  table_id                 = each.key
  schema                   = file("${local.schema_dir}/${each.key}.json")
  clustering               = each.value.clustering
  require_partition_filter = true
  deletion_protection      = true

  time_partitioning {
    type          = "DAY"
    field         = each.value.partition_field
    expiration_ms = each.value.retention * local.day_ms
  }
}

# Duplicates of one event share event_id and its event time. Partitioning the window by the event time
# as well lets BigQuery push a filter on it through the view, so require_partition_filter still holds.
resource "google_bigquery_table" "dedup" {
  for_each            = local.event_tables
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.events.dataset_id
  table_id            = "${each.key}_dedup"
  deletion_protection = true

  view {
    use_legacy_sql = false
    query          = <<-SQL
      SELECT * EXCEPT (dedup_rank)
      FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id, ${each.value.partition_field}) AS dedup_rank
        FROM `${var.project_id}.${google_bigquery_dataset.events.dataset_id}.${google_bigquery_table.event[each.key].table_id}`
      )
      WHERE dedup_rank = 1
    SQL
  }
}

resource "google_bigquery_table" "session_snapshots" {
  project                  = var.project_id
  dataset_id               = google_bigquery_dataset.events.dataset_id
  table_id                 = "session_snapshots"
  description              = "Daily loads of the Firestore sessions export (schema set by the DATASTORE_BACKUP load)."
  require_partition_filter = true
  deletion_protection      = true

  # Ingestion-time partitions: each day's load is that day's snapshot.
  time_partitioning {
    type          = "DAY"
    expiration_ms = var.retention_days.session_snapshots * local.day_ms
  }

  lifecycle {
    ignore_changes = [schema]
  }
}

resource "google_bigquery_table" "request_aggregates" {
  project                  = var.project_id
  dataset_id               = google_bigquery_dataset.events.dataset_id
  table_id                 = "request_aggregates_daily"
  description              = "Per org, provider and model and day: written by the daily scheduled query."
  clustering               = ["org_id", "provider", "model"]
  require_partition_filter = true
  deletion_protection      = true
  # Every column is NULLABLE because every column of a query result is: a query job writing NULLABLE
  # output into a REQUIRED column fails with "Field … has changed mode from REQUIRED to NULLABLE"
  # (https://cloud.google.com/bigquery/docs/troubleshoot-schemas). The query below never writes a NULL
  # except p95_latency_ms for a group without latencies (IFNULL on every other column).
  schema = jsonencode([
    { name = "day", type = "DATE", mode = "NULLABLE" },
    { name = "org_id", type = "STRING", mode = "NULLABLE" },
    { name = "provider", type = "STRING", mode = "NULLABLE" },
    { name = "model", type = "STRING", mode = "NULLABLE" },
    { name = "requests", type = "INTEGER", mode = "NULLABLE" },
    { name = "errors", type = "INTEGER", mode = "NULLABLE" },
    { name = "prompt_tokens", type = "INTEGER", mode = "NULLABLE" },
    { name = "completion_tokens", type = "INTEGER", mode = "NULLABLE" },
    { name = "cost_micros", type = "INTEGER", mode = "NULLABLE" },
    { name = "p95_latency_ms", type = "INTEGER", mode = "NULLABLE" },
  ])

  time_partitioning {
    type          = "DAY"
    field         = "day"
    expiration_ms = var.retention_days.request_aggregates * local.day_ms
  }
}

# The scheduled query: yesterday's deduplicated request logs rolled up into yesterday's partition.
# WRITE_TRUNCATE on the partition decorator makes a re-run replace the day instead of adding to it.
resource "google_bigquery_data_transfer_config" "daily_aggregates" {
  project                = var.project_id
  location               = var.location
  display_name           = "lattice-daily-aggregates-${var.environment}"
  data_source_id         = "scheduled_query"
  schedule               = var.aggregate_schedule
  destination_dataset_id = google_bigquery_dataset.events.dataset_id
  service_account_name   = var.pipeline_service_account

  params = {
    destination_table_name_template = "${google_bigquery_table.request_aggregates.table_id}$${run_time-24h|\"%Y%m%d\"}"
    write_disposition               = "WRITE_TRUNCATE"
    query                           = <<-SQL
      SELECT
        DATE(occurred_at) AS day,
        org_id,
        provider,
        model,
        COUNT(*) AS requests,
        COUNTIF(status >= 400) AS errors,
        IFNULL(SUM(prompt_tokens), 0) AS prompt_tokens,
        IFNULL(SUM(completion_tokens), 0) AS completion_tokens,
        IFNULL(SUM(cost_micros), 0) AS cost_micros,
        APPROX_QUANTILES(latency_ms, 100)[OFFSET(95)] AS p95_latency_ms
      FROM `${var.project_id}.${google_bigquery_dataset.events.dataset_id}.${google_bigquery_table.dedup["request_logs"].table_id}`
      WHERE occurred_at >= TIMESTAMP(DATE_SUB(@run_date, INTERVAL 1 DAY))
        AND occurred_at < TIMESTAMP(@run_date)
      GROUP BY day, org_id, provider, model
    SQL
  }

  depends_on = [google_service_account_iam_member.transfer_agent]
}

# The Data Transfer service agent mints tokens for the pipeline account to run the query as it.
resource "google_service_account_iam_member" "transfer_agent" {
  service_account_id = "projects/${var.project_id}/serviceAccounts/${var.pipeline_service_account}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.datatransfer_service_agent}"
}

# Authorized views for analysts: deduplicated, without the columns in analyst_hidden_columns.
resource "google_bigquery_table" "analyst_view" {
  for_each            = local.event_tables
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.analyst.dataset_id
  table_id            = each.key
  deletion_protection = true

  view {
    use_legacy_sql = false
    query          = <<-SQL
      SELECT ${join(", ", local.analyst_columns[each.key])}
      FROM `${var.project_id}.${google_bigquery_dataset.events.dataset_id}.${google_bigquery_table.dedup[each.key].table_id}`
    SQL
  }
}

resource "google_bigquery_dataset_access" "authorized_view" {
  for_each   = local.event_tables
  project    = var.project_id
  dataset_id = google_bigquery_dataset.events.dataset_id

  view {
    project_id = var.project_id
    dataset_id = google_bigquery_dataset.analyst.dataset_id
    table_id   = google_bigquery_table.analyst_view[each.key].table_id
  }
}

# Dataset ACLs go through dataset_access (not dataset_iam_*), which would drop the authorized views.
resource "google_bigquery_dataset_access" "analysts" {
  for_each       = toset(var.analyst_groups)
  project        = var.project_id
  dataset_id     = google_bigquery_dataset.analyst.dataset_id
  role           = "READER"
  group_by_email = each.value
}

resource "google_bigquery_dataset_access" "writer" {
  project       = var.project_id
  dataset_id    = google_bigquery_dataset.events.dataset_id
  role          = "WRITER"
  user_by_email = var.writer_service_account
}

resource "google_bigquery_dataset_access" "pipeline" {
  project       = var.project_id
  dataset_id    = google_bigquery_dataset.events.dataset_id
  role          = "WRITER"
  user_by_email = var.pipeline_service_account
}

# Analysts run query jobs in the project; the data they can read is only the analyst dataset.
resource "google_project_iam_member" "analyst_job_user" {
  for_each = toset(var.analyst_groups)
  project  = var.project_id
  role     = "roles/bigquery.jobUser"
  member   = "group:${each.value}"
}
