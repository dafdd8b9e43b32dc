output "job_names" {
  description = "Cloud Scheduler job name of each endpoint."
  value       = { for k, j in google_cloud_scheduler_job.job : k => j.name }
}
