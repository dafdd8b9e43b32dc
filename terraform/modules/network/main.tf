/**
 * A private network: Cloud SQL gets only a private IP through private service access, and the functions
 * reach it through the VPC. Nothing here has an external address.
 *
 * Egress: the functions use a Serverless VPC Access connector. Direct VPC egress for gen2 functions
 * (service_config.direct_vpc_network_interface) exists only in google provider 7.x, while this
 * configuration is pinned to, and checked against, 6.50.0; moving to direct egress is a provider upgrade
 * plus replacing vpc_connector in modules/functions (the connector can then be deleted).
 */
resource "google_compute_network" "vpc" {
  project                 = var.project_id
  name                    = "lattice-${var.environment}"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "functions" {
  project                  = var.project_id
  name                     = "lattice-functions-${var.environment}"
  region                   = var.region
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Private service access: a range handed to Google's producer network, where Cloud SQL lives.
resource "google_compute_global_address" "private_services" {
  project       = var.project_id
  name          = "lattice-private-services-${var.environment}"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = var.private_service_prefix_length
  network       = google_compute_network.vpc.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
  deletion_policy         = "ABANDON"
}

resource "google_vpc_access_connector" "functions" {
  project       = var.project_id
  name          = "lattice-${var.environment}"
  region        = var.region
  network       = google_compute_network.vpc.name
  ip_cidr_range = var.connector_cidr
  min_instances = 2
  max_instances = var.connector_max_instances
  machine_type  = "e2-micro"
}

# No firewall rule opens ingress: a VPC denies it implicitly, and the connector manages its own rules.
