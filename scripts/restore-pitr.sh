#!/usr/bin/env bash
# Point-in-time restore of the Cloud SQL primary: clones it as it was at a given moment into a NEW
# instance (the primary is never touched), waits for the clone, and prints how to inspect it and cut over.
#
#   scripts/restore-pitr.sh --project lattice-lock-prod --instance lattice-prod \
#       --time 2026-03-01T09:15:00Z [--target lattice-prod-pitr-0301] [--zone europe-west1-b] [--dry-run]
#
# The time is UTC (RFC 3339, Z). It must fall inside the write-ahead log retention (7 days, terraform
# modules/cloudsql log_retention_days) and after the instance's earliest recovery time.
set -euo pipefail

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

project="" instance="" time="" target="" zone="" dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project) project="$2"; shift 2 ;;
    --instance) instance="$2"; shift 2 ;;
    --time) time="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --zone) zone="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done

[[ -n "$project" && -n "$instance" && -n "$time" ]] || { echo "--project, --instance and --time are required" >&2; usage; }
if [[ ! "$time" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]]; then
  echo "--time must be UTC RFC 3339, e.g. 2026-03-01T09:15:00Z (got: $time)" >&2
  exit 2
fi
epoch=$(date -u -d "$time" +%s 2>/dev/null) || { echo "--time is not a valid date: $time" >&2; exit 2; }
if (( epoch > $(date -u +%s) )); then
  echo "--time is in the future: $time" >&2
  exit 2
fi
# Instance names: lowercase letters, digits, hyphens, at most 98 characters.
target="${target:-${instance}-pitr-$(date -u -d "$time" +%Y%m%d%H%M)}"
if [[ ! "$target" =~ ^[a-z][a-z0-9-]{0,97}$ ]]; then
  echo "--target is not a valid instance name: $target" >&2
  exit 2
fi

run() {
  echo "+ $*" >&2
  if (( dry_run == 0 )); then "$@"; fi
}

if (( dry_run == 0 )); then
  command -v gcloud >/dev/null || { echo "gcloud is not installed" >&2; exit 1; }
  pitr=$(gcloud sql instances describe "$instance" --project="$project" \
    --format='value(settings.backupConfiguration.pointInTimeRecoveryEnabled)')
  if [[ "$pitr" != "True" ]]; then
    echo "point-in-time recovery is not enabled on $instance (terraform sets it: check the instance)" >&2
    exit 1
  fi
  if gcloud sql instances describe "$target" --project="$project" >/dev/null 2>&1; then
    echo "an instance named $target already exists: choose another --target" >&2
    exit 1
  fi
fi

clone=(gcloud sql instances clone "$instance" "$target" --project="$project" --point-in-time="$time" --async --format='value(name)')
[[ -n "$zone" ]] && clone+=(--preferred-zone="$zone")
operation=$(run "${clone[@]}")
if (( dry_run == 0 )); then
  echo "cloning $instance at $time into $target (operation $operation); this takes minutes to an hour…" >&2
  run gcloud sql operations wait "$operation" --project="$project" --timeout=unlimited
fi

cat >&2 <<NEXT

Clone ready: $target (private IP only, same network, CMEK and IAM users as $instance).

Inspect it through the Auth Proxy from a machine in the VPC (e.g. the Cloud Build private pool):
  cloud-sql-proxy --private-ip --auto-iam-authn $project:REGION:$target

Then either
  - copy the lost rows back into $instance (pg_dump the affected tables from the clone, restore them), or
  - cut over: point INSTANCE_CONNECTION_NAME of the four functions at $project:REGION:$target
    (gcloud functions deploy lattice-<fn>-<env> --update-env-vars=INSTANCE_CONNECTION_NAME=…),
    and reconcile terraform afterwards (it still describes $instance).
Delete the clone when done: it has deletion protection, so disable it first
  (gcloud sql instances patch $target --no-deletion-protection && gcloud sql instances delete $target).
NEXT
