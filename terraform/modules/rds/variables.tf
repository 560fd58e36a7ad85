variable "identifier" {
  description = "Identifier of the DB instance (also the prefix of its subnet group, parameter group and security group)."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Subnet IDs of the DB subnet group, the network's database subnets (at least two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "A DB subnet group needs subnets in at least two availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups admitted to the database port (the EKS nodes' group); nothing else is."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL engine version (major 16)."
  type        = string
  default     = "16.4"

  validation {
    condition     = startswith(var.engine_version, "16")
    error_message = "Only PostgreSQL 16 is supported by this module."
  }
}

variable "instance_class" {
  description = "DB instance class (for example `db.t4g.micro`)."
  type        = string
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage" {
  description = "Upper bound of storage autoscaling in GiB (0 disables it)."
  type        = number
  default     = 100
}

variable "multi_az" {
  description = "Whether a synchronous standby runs in a second AZ."
  type        = bool
  default     = false
}

variable "db_name" {
  description = "Name of the database created with the instance."
  type        = string
  default     = "titanic"
}

variable "username" {
  description = "Master user name. Its password is generated and kept by RDS in Secrets Manager, never in Terraform state."
  type        = string
  default     = "titanic_admin"
}

variable "port" {
  description = "Database port."
  type        = number
  default     = 5432
}

variable "backup_retention_period" {
  description = "Days automated backups are kept (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_period >= 1 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be between 1 and 35 days."
  }
}

variable "backup_window" {
  description = "Daily UTC window of automated backups."
  type        = string
  default     = "02:00-03:00"
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window."
  type        = string
  default     = "sun:03:30-sun:04:30"
}

variable "deletion_protection" {
  description = "Whether the instance refuses deletion."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Whether destroy skips the final snapshot (only for throw-away environments)."
  type        = bool
  default     = false
}

variable "performance_insights_enabled" {
  description = "Whether Performance Insights is enabled (encrypted with the module's key)."
  type        = bool
  default     = true
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (0 disables it)."
  type        = number
  default     = 60
}

variable "parameters" {
  description = "Parameters of the parameter group: map of name => { value, apply_method }. The default forces TLS and logs connections and slow statements."
  type = map(object({
    value        = string
    apply_method = optional(string, "pending-reboot")
  }))
  default = {
    "rds.force_ssl"              = { value = "1", apply_method = "pending-reboot" }
    "log_connections"            = { value = "1", apply_method = "immediate" }
    "log_disconnections"         = { value = "1", apply_method = "immediate" }
    "log_min_duration_statement" = { value = "1000", apply_method = "immediate" }
  }
}

variable "security_group_rule_descriptions" {
  description = "Whether security group rules carry descriptions (the emulator drops them on group-referencing rules)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
