variable "role_name" {
  description = "Name of the IAM role."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider."
  type        = string
}

variable "namespace_service_accounts" {
  description = "Service accounts allowed to assume the role, as `namespace:name`."
  type        = list(string)

  validation {
    condition     = length(var.namespace_service_accounts) > 0 && alltrue([for s in var.namespace_service_accounts : can(regex("^[a-z0-9-]+:[a-z0-9-]+$", s))])
    error_message = "Give at least one service account, each as namespace:name."
  }
}

variable "policy_arns" {
  description = "Managed policies attached to the role."
  type        = map(string)
  default     = {}
}

variable "secret_arns" {
  description = "Secrets Manager secrets the service account may read (for example the database credentials)."
  type        = list(string)
  default     = []
}

variable "rds_managed_secret_instance_arn_patterns" {
  description = "RDS instance ARNs, `*` and `?` allowed (StringLike), whose RDS-managed master secrets (`rds!db-*`, tagged `aws:rds:primaryDBInstanceArn` by RDS) the service account may read: instances created after this role, such as restores. Their KMS key belongs in `kms_key_arns`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.rds_managed_secret_instance_arn_patterns : can(regex("^arn:[a-z-]+:rds:[a-z0-9-]+:[0-9]{12}:db:[a-z][a-z0-9-]*[*?]*$", p))])
    error_message = "Give each pattern as an RDS instance ARN, arn:PARTITION:rds:REGION:ACCOUNT:db:IDENTIFIER, wildcards at its end only."
  }
}

variable "kms_key_arns" {
  description = "KMS keys the service account may decrypt with (the keys of `secret_arns` and of the secrets of `rds_managed_secret_instance_arn_patterns`, through Secrets Manager only; of `s3_bucket_arns`)."
  type        = list(string)
  default     = []
}

variable "attach_velero_policy" {
  description = "Whether the role gets the Velero policy (EBS snapshots, read/write of `s3_bucket_arns`)."
  type        = bool
  default     = false
}

variable "s3_bucket_arns" {
  description = "Buckets the Velero policy may read and write."
  type        = list(string)
  default     = []
}

variable "attach_load_balancer_controller_policy" {
  description = "Whether the role gets the AWS Load Balancer Controller policy (`policies/aws-load-balancer-controller.json`)."
  type        = bool
  default     = false
}

variable "log_group_arns" {
  description = "CloudWatch log groups whose streams the service account may create, describe and write (a log shipper); no log group is created."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
