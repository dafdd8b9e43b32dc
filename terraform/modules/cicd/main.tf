/**
 * Cloud SQL has no public IP, so the Cloud Build steps that talk to it (migrations through the Cloud SQL
 * Auth Proxy with --private-ip) run in a private pool peered with the VPC. cloudbuild.yaml names it in
 * options.pool.
 */
resource "google_cloudbuild_worker_pool" "private" {
  project  = var.project_id
  name     = "lattice-${var.environment}"
  location = var.region

  worker_config {
    machine_type   = var.machine_type
    disk_size_gb   = 100
    no_external_ip = false
  }

  network_config {
    peered_network = var.network_id
  }
}
