variable "name" {
  description = "Name prefix of the trail, the bucket, the recorder and the rules (titanic-<environment>)."
  type        = string
}

variable "data_event_bucket_arns" {
  description = "ARNs of the buckets whose object-level API calls the trail records (S3 data events): the backup buckets."
  type        = list(string)
}

variable "log_expiration_days" {
  description = "Days the trail's log files and AWS Config's snapshots are kept in their bucket."
  type        = number

  validation {
    condition     = var.log_expiration_days >= 30
    error_message = "Keep the audit trail at least 30 days."
  }
}

variable "enable_guardduty" {
  description = "GuardDuty with EKS audit log monitoring in this account and region (one detector per account and region)."
  type        = bool
  default     = true
}

variable "enable_config" {
  description = "AWS Config recording of every supported resource, and the managed rules of config_rules (one recorder per account and region)."
  type        = bool
  default     = true
}

variable "config_rules" {
  description = "AWS Config managed rules to evaluate: map of rule name suffix => the managed rule's source identifier."
  type        = map(string)
  default = {
    cloudtrail-log-file-validation  = "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED"
    eks-endpoint-no-public-access   = "EKS_ENDPOINT_NO_PUBLIC_ACCESS"
    eks-secrets-encrypted           = "EKS_SECRETS_ENCRYPTED"
    iam-root-access-key-check       = "IAM_ROOT_ACCESS_KEY_CHECK"
    rds-storage-encrypted           = "RDS_STORAGE_ENCRYPTED"
    s3-bucket-server-side-encrypted = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
    s3-bucket-ssl-requests-only     = "S3_BUCKET_SSL_REQUESTS_ONLY"
    vpc-flow-logs-enabled           = "VPC_FLOW_LOGS_ENABLED"
  }
}

variable "force_destroy" {
  description = "Whether destroy empties the log bucket first (throw-away environments only)."
  type        = bool
  default     = false
}

variable "deny_insecure_transport" {
  description = "Whether the log bucket's policy denies requests not made over TLS (module backup_storage; off only on the emulator)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
