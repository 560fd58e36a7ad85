variable "name" {
  description = "Name prefix for every resource of the network (for example `titanic-dev`)."
  type        = string
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr, 0))
    error_message = "The cidr must be a valid IPv4 CIDR block."
  }
}

variable "azs" {
  description = "Availability zones to spread the subnets over (2 or 3)."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 3
    error_message = "Between 2 and 3 availability zones are supported."
  }
}

variable "public_subnet_newbits" {
  description = "Bits added to the VPC prefix for each public subnet (cidrsubnet newbits)."
  type        = number
  default     = 8
}

variable "private_subnet_newbits" {
  description = "Bits added to the VPC prefix for each private subnet (cidrsubnet newbits)."
  type        = number
  default     = 4
}

variable "database_subnet_newbits" {
  description = "Bits added to the VPC prefix for each database subnet (cidrsubnet newbits)."
  type        = number
  default     = 8
}

variable "database_subnet_netnum" {
  description = "cidrsubnet netnum of the first database subnet (the next AZs take the following numbers); must not overlap the public and private subnets."
  type        = number
  default     = 8
}

variable "enable_nat_gateway" {
  description = "Whether private subnets get outbound Internet access through NAT gateways."
  type        = bool
  default     = true
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway (cheaper, one AZ is a single point of failure) instead of one per AZ."
  type        = bool
  default     = false
}

variable "enable_flow_logs" {
  description = "Whether VPC flow logs are sent to a KMS-encrypted CloudWatch log group."
  type        = bool
  default     = true
}

variable "flow_logs_retention_days" {
  description = "Retention in days of the flow logs log group."
  type        = number
  default     = 365
}

variable "flow_logs_traffic_type" {
  description = "Traffic captured by the flow logs: ACCEPT, REJECT or ALL."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_logs_traffic_type)
    error_message = "flow_logs_traffic_type must be ACCEPT, REJECT or ALL."
  }
}

variable "cluster_name" {
  description = "EKS cluster name used in the subnet discovery tags (`kubernetes.io/cluster/<name>`); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
