# Test-only override (Terraform merges *_override.tf into this root module): module arguments that
# make the composition converge on the emulator (moto), whose API differs from AWS on a few points.
# It changes nothing in the modules and is absent from dev, staging and prod.

module "eks" {
  # checkov:skip=CKV_TF_1:Override of a local module call: it has no source of its own.
  # checkov:skip=CKV_TF_2:Override of a local module call: it has no source of its own.
  # moto reports remoteAccess {ec2SshKey = "eksKeypair"} on every node group (AWS reports none) and
  # rejects a launch template next to it: declare exactly what moto reports.
  node_launch_template       = false
  node_remote_access_ssh_key = "eksKeypair"

  # moto does not report a node group's update_config back.
  node_max_unavailable = null

  # moto drops the description of rules that reference another security group.
  security_group_rule_descriptions = false

  # moto does not model access entries nor the authentication mode.
  authentication_mode = null
  access_entries      = {}

  # moto 5.2 answers CreateAddon with 404 "Not yet implemented": the plans of dev, staging and prod cover
  # the add-ons (tests/terraform), a real account proves them (docs/limitations.md).
  enable_managed_addons = false
}

module "rds" {
  # checkov:skip=CKV_TF_1:Override of a local module call: it has no source of its own.
  # checkov:skip=CKV_TF_2:Override of a local module call: it has no source of its own.
  # moto does not keep the parameters of a parameter group: keep the group, without parameters.
  parameters                       = {}
  security_group_rule_descriptions = false
}

module "backup_storage" {
  # checkov:skip=CKV_TF_1:Override of a local module call: it has no source of its own.
  # checkov:skip=CKV_TF_2:Override of a local module call: it has no source of its own.
  # moto evaluates aws:SecureTransport against its plain-HTTP endpoint, so the TLS-only policy would deny
  # every write of the database's continuous backup (barman-cloud) on the local system.
  deny_insecure_transport = false
}

module "image_signatures" {
  # checkov:skip=CKV_TF_1:Override of a local module call: it has no source of its own.
  # checkov:skip=CKV_TF_2:Override of a local module call: it has no source of its own.
  # The same reason as backup_storage's: moto would deny the build stage's plain-HTTP uploads of signatures.
  deny_insecure_transport = false
}

module "audit" {
  # checkov:skip=CKV_TF_1:Override of a local module call: it has no source of its own.
  # checkov:skip=CKV_TF_2:Override of a local module call: it has no source of its own.
  # The same reason as backup_storage's: moto would deny CloudTrail's and Config's plain-HTTP writes.
  deny_insecure_transport = false
}
