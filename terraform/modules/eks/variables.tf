variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
}

variable "cluster_version" {
  description = "Kubernetes version of the control plane and the node groups (for example `1.31`)."
  type        = string
  default     = "1.31"
}

variable "vpc_id" {
  description = "ID of the VPC the cluster lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs for the control plane ENIs and the nodes (at least two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API endpoint is reachable from the Internet (restricted by `endpoint_public_access_cidrs`)."
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public API endpoint when it is enabled."
  type        = list(string)
  default     = []
}

variable "enabled_log_types" {
  description = "Control-plane log types sent to CloudWatch."
  type        = list(string)
  default     = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
}

variable "log_retention_days" {
  description = "Retention in days of the control-plane log group."
  type        = number
  default     = 365
}

variable "authentication_mode" {
  description = "Cluster authentication mode (`API` or `API_AND_CONFIG_MAP`); null leaves the service default (the emulator does not model it)."
  type        = string
  default     = "API"

  validation {
    condition     = var.authentication_mode == null || contains(["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"], coalesce(var.authentication_mode, "API"))
    error_message = "authentication_mode must be API, API_AND_CONFIG_MAP, CONFIG_MAP or null."
  }
}

variable "access_entries" {
  description = "EKS access entries: map of name => { principal_arn, kubernetes_groups, policy_associations = map of { policy_arn, scope_type, namespaces } }."
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
  description = "Managed node groups: map of name => { instance_types, capacity_type, min_size, max_size, desired_size, disk_size, labels }."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size      = optional(number, 30)
    labels         = optional(map(string), {})
  }))

  validation {
    condition     = alltrue([for ng in values(var.node_groups) : ng.min_size <= ng.desired_size && ng.desired_size <= ng.max_size])
    error_message = "Each node group needs min_size <= desired_size <= max_size."
  }
}

variable "node_launch_template" {
  description = "Whether node groups use a launch template (IMDSv2 only, encrypted gp3 root volume, the module's node security group). The emulator does not model launch templates faithfully."
  type        = bool
  default     = true
}

variable "node_max_unavailable" {
  description = "Nodes a rolling update of a node group may take down at once; null leaves the service default."
  type        = number
  default     = 1
}

variable "node_remote_access_ssh_key" {
  description = "EC2 key pair for SSH to nodes without a launch template; null (the default) for no SSH access. The emulator always reports one."
  type        = string
  default     = null
}

variable "security_group_rule_descriptions" {
  description = "Whether security group rules carry descriptions (the emulator drops them on group-referencing rules)."
  type        = bool
  default     = true
}

variable "enable_managed_addons" {
  description = "Whether the EKS managed add-ons are installed: vpc-cni (network policy enabled), kube-proxy, coredns, aws-ebs-csi-driver. The emulator does not implement them."
  type        = bool
  default     = true
}

variable "managed_addon_versions" {
  description = "Versions of the managed add-ons by name; an add-on left out gets EKS's default version for the cluster version."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.managed_addon_versions), ["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"])) == 0
    error_message = "managed_addon_versions accepts vpc-cni, kube-proxy, coredns and aws-ebs-csi-driver only."
  }
}

variable "ebs_csi_role_arn" {
  description = "IRSA role of the EBS CSI driver's controller (service account kube-system:ebs-csi-controller-sa); null runs it with the node role."
  type        = string
  default     = null
}

variable "oidc_thumbprints" {
  description = "Thumbprints of the OIDC issuer's root CA (the well-known Amazon root CA by default)."
  type        = list(string)
  default     = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
