# Every size and toggle of the environment; Ansible (role aws_infra) passes them from the inventory.

variable "environment" {
  description = "Environment name (local, dev, staging, prod)."
  type        = string

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of local, dev, staging, prod."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "allowed_account_ids" {
  description = "AWS accounts this environment may be applied to (the provider refuses any other)."
  type        = list(string)
}

variable "azs" {
  description = "Availability zones (2 or 3)."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string
}

variable "enable_nat_gateway" {
  description = "Whether private subnets reach the Internet through NAT gateways."
  type        = bool
  default     = true
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway instead of one per AZ."
  type        = bool
}

variable "log_retention_days" {
  description = "Retention in days of the flow logs and EKS control-plane logs."
  type        = number
}

variable "cluster_version" {
  description = "Kubernetes version of the EKS cluster."
  type        = string
}

variable "cluster_endpoint_public_access" {
  description = "Whether the Kubernetes API is reachable from the Internet."
  type        = bool
  default     = false
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public Kubernetes API."
  type        = list(string)
  default     = []
}

variable "cluster_authentication_mode" {
  description = "EKS authentication mode; null leaves the service default (emulator)."
  type        = string
  default     = "API"
}

variable "cluster_access_entries" {
  description = "EKS access entries (see module eks)."
  type = map(object({
    principal_arn     = string
    kubernetes_groups = optional(list(string), [])
    type              = optional(string, "STANDARD")
    policy_associations = optional(map(object({
      policy_arn = string
      scope_type = optional(string, "cluster")
      namespaces = optional(list(string), [])
    })), {})
  }))
  default = {}
}

variable "node_groups" {
  description = "EKS managed node groups (see module eks)."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size      = optional(number, 30)
    labels         = optional(map(string), {})
  }))
}

variable "node_launch_template" {
  description = "Whether node groups use the module's launch template (false on the emulator)."
  type        = bool
  default     = true
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_engine_version" {
  description = "PostgreSQL 16 engine version."
  type        = string
  default     = "16.4"
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB."
  type        = number
}

variable "db_max_allocated_storage" {
  description = "RDS storage autoscaling limit in GiB."
  type        = number
}

variable "db_multi_az" {
  description = "Whether RDS runs a Multi-AZ standby."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days RDS keeps automated backups."
  type        = number
}

variable "db_deletion_protection" {
  description = "Whether the DB instance refuses deletion."
  type        = bool
}

variable "db_skip_final_snapshot" {
  description = "Whether destroying the DB skips its final snapshot."
  type        = bool
}

variable "db_performance_insights_enabled" {
  description = "Whether Performance Insights is enabled."
  type        = bool
  default     = true
}

variable "db_monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (0 disables)."
  type        = number
  default     = 60
}

variable "ecr_repository_name" {
  description = "Name of the API's ECR repository."
  type        = string
  default     = "titanic-api"
}

variable "ecr_execution_environment_repository_name" {
  description = "Name of the execution environment's ECR repository (role execution_environment pushes to it)."
  type        = string
  default     = "titanic-ee"
}

variable "ecr_keep_tagged_images" {
  description = "Release images kept by the ECR lifecycle policy."
  type        = number
  default     = 30
}

variable "backup_buckets" {
  description = "Backup buckets by purpose with their lifecycle (see module backup_storage)."
  type = map(object({
    transition_days = optional(number, 30)
    expiration_days = optional(number, 0)
    noncurrent_days = optional(number, 30)
  }))
}

variable "force_destroy" {
  description = "Whether destroy empties buckets and repositories first (throw-away environments only)."
  type        = bool
  default     = false
}

variable "enable_managed_addons" {
  description = "Whether EKS installs its managed add-ons (vpc-cni with network policy, kube-proxy, coredns, EBS CSI)."
  type        = bool
  default     = true
}

variable "waf_rate_limit_per_5min" {
  description = "Requests one client IP may send to the API in 5 minutes before the WAF blocks it."
  type        = number
  default     = 2000
}

variable "db_bootstrap_service_account" {
  description = "Service account of the database bootstrap Job (the only reader of the master secret), as namespace:name."
  type        = string
  default     = "titanic:titanic-api-db-bootstrap"
}

variable "velero_service_account" {
  description = "Service account of Velero, as namespace:name."
  type        = string
  default     = "velero:velero"
}

variable "load_balancer_controller_service_account" {
  description = "Service account of the AWS Load Balancer Controller, as namespace:name."
  type        = string
  default     = "kube-system:aws-load-balancer-controller"
}

variable "fluent_bit_service_account" {
  description = "Service account of Fluent Bit (aws-for-fluent-bit, role cluster_addons), which ships the API's logs to its log group, as namespace:name."
  type        = string
  default     = "kube-system:aws-for-fluent-bit"
}

variable "ci_github_repository" {
  description = "GitHub repository (owner/name) whose workflows deploy this environment through the role titanic-ci-deployer; empty: no such role (local)."
  type        = string
  default     = ""
}

variable "ci_create_oidc_provider" {
  description = "Whether this environment creates the account's OIDC provider for GitHub Actions (false when the account has one)."
  type        = bool
  default     = true
}

variable "ci_state_bucket" {
  description = "Bucket of this environment's Terraform state (role aws_infra's backend), which the deployer may read for its outputs; empty: no read."
  type        = string
  default     = ""
}

variable "ci_state_key" {
  description = "Key of this environment's state object in ci_state_bucket."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Extra tags on every resource (the provider adds Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
}
