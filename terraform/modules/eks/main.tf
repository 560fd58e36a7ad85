data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
}

################################################################################
# KMS key: Kubernetes secrets envelope encryption and the control-plane log group
################################################################################

module "kms" {
  source = "../kms_key"

  description           = "${var.cluster_name} EKS secrets and control-plane logs"
  alias                 = "eks/${var.cluster_name}"
  allow_cloudwatch_logs = true
  tags                  = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/eks/${var.cluster_name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn

  tags = var.tags
}

################################################################################
# IAM: cluster role and node role
################################################################################

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.cluster_name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = toset(["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"])

  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.cluster_name}-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

################################################################################
# Security groups
################################################################################

resource "aws_security_group" "cluster" {
  name        = "${var.cluster_name}-cluster"
  description = "EKS control plane ENIs of ${var.cluster_name}"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.cluster_name}-cluster" })
}

resource "aws_security_group" "node" {
  name        = "${var.cluster_name}-node"
  description = "EKS worker nodes of ${var.cluster_name}"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, {
    Name                                        = "${var.cluster_name}-node"
    "kubernetes.io/cluster/${var.cluster_name}" = "owned"
  })
}

resource "aws_vpc_security_group_ingress_rule" "cluster_from_nodes" {
  security_group_id            = aws_security_group.cluster.id
  description                  = var.security_group_rule_descriptions ? "Kubernetes API from the nodes" : null
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.node.id
}

resource "aws_vpc_security_group_egress_rule" "cluster_to_nodes" {
  security_group_id            = aws_security_group.cluster.id
  description                  = var.security_group_rule_descriptions ? "Control plane to kubelets and webhooks" : null
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 65535
  referenced_security_group_id = aws_security_group.node.id
}

resource "aws_vpc_security_group_ingress_rule" "node_from_cluster" {
  # checkov:skip=CKV_AWS_25:The source is the control plane's security group, not 0.0.0.0/0; EKS needs 443-65535 for webhooks.
  security_group_id            = aws_security_group.node.id
  description                  = var.security_group_rule_descriptions ? "Control plane to kubelets and webhooks" : null
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 65535
  referenced_security_group_id = aws_security_group.cluster.id
}

resource "aws_vpc_security_group_ingress_rule" "node_to_node" {
  security_group_id            = aws_security_group.node.id
  description                  = var.security_group_rule_descriptions ? "Node to node (pod network, CoreDNS)" : null
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.node.id
}

resource "aws_vpc_security_group_egress_rule" "node_all" {
  security_group_id = aws_security_group.node.id
  description       = "Nodes reach ECR, S3, STS and the Internet through the NAT gateways"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

################################################################################
# Cluster
################################################################################

resource "aws_eks_cluster" "this" {
  name     = var.cluster_name
  version  = var.cluster_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = var.enabled_log_types

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access ? var.endpoint_public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = module.kms.key_arn
    }
  }

  dynamic "access_config" {
    for_each = var.authentication_mode == null ? [] : [var.authentication_mode]

    content {
      authentication_mode                         = access_config.value
      bootstrap_cluster_creator_admin_permissions = false
    }
  }

  tags = var.tags

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_cloudwatch_log_group.this,
  ]
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = var.oidc_thumbprints

  tags = var.tags
}

################################################################################
# Access entries
################################################################################

locals {
  policy_associations = merge([
    for entry_name, entry in var.access_entries : {
      for assoc_name, assoc in entry.policy_associations :
      "${entry_name}/${assoc_name}" => merge(assoc, { principal_arn = entry.principal_arn, entry = entry_name })
    }
  ]...)
}

resource "aws_eks_access_entry" "this" {
  for_each = var.access_entries

  cluster_name      = aws_eks_cluster.this.name
  principal_arn     = each.value.principal_arn
  kubernetes_groups = each.value.kubernetes_groups
  type              = each.value.type

  tags = var.tags
}

resource "aws_eks_access_policy_association" "this" {
  for_each = local.policy_associations

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value.principal_arn
  policy_arn    = each.value.policy_arn

  access_scope {
    type       = each.value.scope_type
    namespaces = each.value.scope_type == "namespace" ? each.value.namespaces : null
  }

  depends_on = [aws_eks_access_entry.this]
}

################################################################################
# Managed node groups
################################################################################

resource "aws_launch_template" "node" {
  for_each = var.node_launch_template ? var.node_groups : {}

  name_prefix            = "${var.cluster_name}-${each.key}-"
  update_default_version = true
  vpc_security_group_ids = compact([aws_security_group.node.id, aws_eks_cluster.this.vpc_config[0].cluster_security_group_id])

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = each.value.disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.cluster_name}-${each.key}" })
  }

  tags = var.tags
}

resource "aws_eks_node_group" "this" {
  # checkov:skip=CKV_AWS_100:remote_access only exists to mirror the emulator (node_remote_access_ssh_key defaults to null: no SSH).
  for_each = var.node_groups

  cluster_name    = aws_eks_cluster.this.name
  node_group_name = each.key
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  version         = var.cluster_version
  instance_types  = each.value.instance_types
  capacity_type   = each.value.capacity_type
  disk_size       = var.node_launch_template ? null : each.value.disk_size
  labels          = each.value.labels

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  dynamic "update_config" {
    for_each = var.node_max_unavailable == null ? [] : [var.node_max_unavailable]

    content {
      max_unavailable = update_config.value
    }
  }

  dynamic "remote_access" {
    for_each = var.node_remote_access_ssh_key == null ? [] : [var.node_remote_access_ssh_key]

    content {
      ec2_ssh_key = remote_access.value
    }
  }

  dynamic "launch_template" {
    for_each = var.node_launch_template ? [aws_launch_template.node[each.key]] : []

    content {
      id      = launch_template.value.id
      version = launch_template.value.latest_version
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.node]
}

################################################################################
# EKS managed add-ons
################################################################################

locals {
  # vpc-cni enforces NetworkPolicies only with its network policy agent switched on; the EBS CSI driver
  # runs under its own IRSA role (ebs_csi_role_arn), never with the node role.
  managed_addons = {
    vpc-cni = {
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
      role_arn             = null
      needs_nodes          = false
    }
    kube-proxy = {
      configuration_values = null
      role_arn             = null
      needs_nodes          = false
    }
    coredns = {
      configuration_values = null
      role_arn             = null
      needs_nodes          = true
    }
    aws-ebs-csi-driver = {
      configuration_values = null
      role_arn             = var.ebs_csi_role_arn
      needs_nodes          = true
    }
  }
}

# The networking add-ons come with the cluster (nodes need them to become ready).
resource "aws_eks_addon" "networking" {
  for_each = var.enable_managed_addons ? { for name, addon in local.managed_addons : name => addon if !addon.needs_nodes } : {}

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = lookup(var.managed_addon_versions, each.key, null)
  configuration_values        = each.value.configuration_values
  service_account_role_arn    = each.value.role_arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags
}

# CoreDNS and the EBS CSI controller are Deployments: they wait for the node groups.
resource "aws_eks_addon" "workloads" {
  for_each = var.enable_managed_addons ? { for name, addon in local.managed_addons : name => addon if addon.needs_nodes } : {}

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = lookup(var.managed_addon_versions, each.key, null)
  configuration_values        = each.value.configuration_values
  service_account_role_arn    = each.value.role_arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  tags = var.tags

  depends_on = [aws_eks_node_group.this]
}
