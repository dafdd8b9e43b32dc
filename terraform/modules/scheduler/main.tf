/**
 * One Cloud Scheduler job per jobs endpoint. Each call carries an OIDC token minted for the jobs
 * service account with the function URL as audience; Cloud Run checks run.invoker on it and the jobs
 * function checks audience and account again (DESIGN §4), so nothing else can trigger a job.
 * Every endpoint is idempotent, so Scheduler's retries are safe.
 */
resource "google_cloud_scheduler_job" "job" {
  for_each         = var.schedules
  project          = var.project_id
  region           = var.region
  name             = "lattice-${each.key}-${var.environment}"
  description      = "POST /${each.key} on the jobs function."
  schedule         = each.value
  time_zone        = "Etc/UTC"
  attempt_deadline = var.attempt_deadline

  retry_config {
    retry_count          = 2
    min_backoff_duration = "10s"
    max_backoff_duration = "120s"
  }

  http_target {
    http_method = "POST"
    uri         = "${var.jobs_url}/${each.key}"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode("{}")

    oidc_token {
      service_account_email = var.jobs_service_account
      audience              = var.jobs_url
    }
  }
}
