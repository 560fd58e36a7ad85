# Composition of the titanic platform. Identical in every environment (tests/terraform checks it);
# only providers.tf differs, and every size comes from variables.

locals {
  name = "titanic-${var.environment}"
  # Secrets Manager name of the API's database login: role aws_services fills it, the deploy stage reads it.
  api_db_secret_name = "titanic/${var.environment}/api/database"
  # Secrets Manager name of the API's write tokens: role aws_services generates them, the EKS applier reads them.
  api_write_tokens_secret_name = "titanic/${var.environment}/api/write-tokens"
  # aws_services creates the API's secret after Terraform: its ARN ends with 6 random characters.
  api_db_secret_arn_pattern = join(":", [
    "arn", data.aws_partition.current.partition, "secretsmanager", var.region,
    data.aws_caller_identity.current.account_id, "secret", "${local.api_db_secret_name}-??????",
  ])
  # CloudWatch log group of the API's logs: role aws_services creates it (with its metric filter and alarm),
  # Fluent Bit writes to it under the IRSA role below; both get this name from the platform record.
  api_log_group_name = "/titanic/${var.environment}/api"
  api_log_group_arn = join(":", [
    "arn", data.aws_partition.current.partition, "logs", var.region,
    data.aws_caller_identity.current.account_id, "log-group", local.api_log_group_name,
  ])
  api_write_tokens_secret_arn_pattern = join(":", [
    "arn", data.aws_partition.current.partition, "secretsmanager", var.region,
    data.aws_caller_identity.current.account_id, "secret", "${local.api_write_tokens_secret_name}-??????",
  ])
  # The pipeline's deployer (module ci_deployer) is named by ARN in the inventory's EKS access entries; the
  # entry then takes the module's output, so that the role exists before its entry (EKS checks the principal).
  ci_deployer_role_arns = module.ci_deployer[*].role_arn
  cluster_access_entries = {
    for key, entry in var.cluster_access_entries : key => merge(entry, {
      principal_arn = contains(local.ci_deployer_role_arns, entry.principal_arn) ? one(local.ci_deployer_role_arns) : entry.principal_arn
    })
  }
  # The service account the EBS CSI managed add-on runs its controller under.
  ebs_csi_service_account = "kube-system:ebs-csi-controller-sa"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

module "network" {
  source = "../../modules/network"

  name                     = local.name
  cidr                     = var.vpc_cidr
  azs                      = var.azs
  enable_nat_gateway       = var.enable_nat_gateway
  single_nat_gateway       = var.single_nat_gateway
  flow_logs_retention_days = var.log_retention_days
  cluster_name             = local.name

  tags = var.tags
}

module "eks" {
  source = "../../modules/eks"

  cluster_name                 = local.name
  cluster_version              = var.cluster_version
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.private_subnet_ids
  endpoint_public_access       = var.cluster_endpoint_public_access
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  authentication_mode          = var.cluster_authentication_mode
  access_entries               = local.cluster_access_entries
  log_retention_days           = var.log_retention_days
  node_groups                  = var.node_groups
  node_launch_template         = var.node_launch_template
  enable_managed_addons        = var.enable_managed_addons
  ebs_csi_role_arn             = module.irsa_ebs_csi.role_arn

  tags = var.tags
}

module "rds" {
  source = "../../modules/rds"

  identifier                   = local.name
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.database_subnet_ids
  allowed_security_group_ids   = [module.eks.node_security_group_id]
  engine_version               = var.db_engine_version
  instance_class               = var.db_instance_class
  allocated_storage            = var.db_allocated_storage
  max_allocated_storage        = var.db_max_allocated_storage
  multi_az                     = var.db_multi_az
  backup_retention_period      = var.db_backup_retention_days
  deletion_protection          = var.db_deletion_protection
  skip_final_snapshot          = var.db_skip_final_snapshot
  performance_insights_enabled = var.db_performance_insights_enabled
  monitoring_interval          = var.db_monitoring_interval

  tags = var.tags
}

module "ecr" {
  source = "../../modules/ecr"

  repository_name    = var.ecr_repository_name
  keep_tagged_images = var.ecr_keep_tagged_images
  force_delete       = var.force_destroy

  tags = var.tags
}

# The execution environment AWX and the pipeline run the playbooks in (execution-environment.yml, role
# execution_environment): its own repository, so the API's lifecycle and pull policy stay the API's.
module "ecr_execution_environment" {
  source = "../../modules/ecr"

  repository_name    = var.ecr_execution_environment_repository_name
  keep_tagged_images = var.ecr_keep_tagged_images
  force_delete       = var.force_destroy

  tags = var.tags
}

module "backup_storage" {
  source = "../../modules/backup_storage"

  name          = local.name
  buckets       = var.backup_buckets
  force_destroy = var.force_destroy

  tags = var.tags
}

# The OpenPGP signatures of the images the build stage pushes to ECR (containers/image's lookaside layout), read
# by the deploy stage before it runs an image (role image_signature, docs/runbooks/image-signing.md). The backup
# buckets' protections and lifecycle: current versions never expire, a signature lives as long as its image may run.
module "image_signatures" {
  source = "../../modules/backup_storage"

  name    = local.name
  purpose = "image-signature"
  buckets = {
    image-signatures = {}
  }
  force_destroy = var.force_destroy

  tags = var.tags
}

# Audit and detection (docs/security.md): a trail of every region's management calls and of the backup buckets'
# object-level calls, in a bucket with the backup buckets' protections; GuardDuty with EKS protection; AWS Config.
module "audit" {
  source = "../../modules/audit"

  name                   = local.name
  data_event_bucket_arns = values(module.backup_storage.bucket_arns)
  log_expiration_days    = max(var.log_retention_days, 30)
  force_destroy          = var.force_destroy

  tags = var.tags
}

module "waf" {
  source = "../../modules/waf"

  name                = local.name
  rate_limit_per_5min = var.waf_rate_limit_per_5min
  log_retention_days  = var.log_retention_days

  tags = var.tags
}

# The API itself calls no AWS API and has no IAM role. The database bootstrap Job is the only workload
# that may read the RDS master secret (tests/terraform checks it): it creates the API's login with it.
# After an RDS restore (playbooks/dr/restore.yml, docs/decisions.md D18) it reads the new instance's own master
# secret, which RDS creates then under the same key: granted by the instance ARN RDS tags it with (<ARN>-r*).
module "irsa_db_bootstrap" {
  source = "../../modules/irsa"

  role_name                                = "${local.name}-db-bootstrap"
  oidc_provider_arn                        = module.eks.oidc_provider_arn
  namespace_service_accounts               = [var.db_bootstrap_service_account]
  secret_arns                              = [module.rds.master_user_secret_arn, local.api_db_secret_arn_pattern]
  rds_managed_secret_instance_arn_patterns = ["${module.rds.db_instance_arn}-r*"]
  kms_key_arns                             = [module.rds.kms_key_arn]

  tags = var.tags
}

module "irsa_ebs_csi" {
  source = "../../modules/irsa"

  role_name                  = "${local.name}-ebs-csi"
  oidc_provider_arn          = module.eks.oidc_provider_arn
  namespace_service_accounts = [local.ebs_csi_service_account]
  policy_arns = {
    ebs-csi = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
  }

  tags = var.tags
}

module "irsa_velero" {
  source = "../../modules/irsa"

  role_name                  = "${local.name}-velero"
  oidc_provider_arn          = module.eks.oidc_provider_arn
  namespace_service_accounts = [var.velero_service_account]
  attach_velero_policy       = true
  s3_bucket_arns             = values(module.backup_storage.bucket_arns)
  kms_key_arns               = [module.backup_storage.kms_key_arn]

  tags = var.tags
}

module "irsa_load_balancer_controller" {
  source = "../../modules/irsa"

  role_name                              = "${local.name}-aws-load-balancer-controller"
  oidc_provider_arn                      = module.eks.oidc_provider_arn
  namespace_service_accounts             = [var.load_balancer_controller_service_account]
  attach_load_balancer_controller_policy = true

  tags = var.tags
}

# Fluent Bit ships the API's container logs: it may write streams of the API's log group and nothing else
# (no log group creation, no other group).
module "irsa_fluent_bit" {
  source = "../../modules/irsa"

  role_name                  = "${local.name}-fluent-bit"
  oidc_provider_arn          = module.eks.oidc_provider_arn
  namespace_service_accounts = [var.fluent_bit_service_account]
  log_group_arns             = [local.api_log_group_arn]

  tags = var.tags
}

# GitHub Actions builds and deploys the API through this role, assumed with GitHub's OIDC tokens of one
# repository's jobs in the GitHub environment named like this one (docs/ci-cd.md). Absent without a repository
# (local). Everything is named from known values so that the plans show the whole policy (tests/terraform).
module "ci_deployer" {
  source = "../../modules/ci_deployer"
  count  = var.ci_github_repository != "" ? 1 : 0

  github_repository    = var.ci_github_repository
  github_environment   = var.environment
  create_oidc_provider = var.ci_create_oidc_provider
  ecr_repository_arns = [join(":", [
    "arn", data.aws_partition.current.partition, "ecr", var.region, data.aws_caller_identity.current.account_id,
    "repository/${var.ecr_repository_name}",
  ])]
  cluster_arn = join(":", [
    "arn", data.aws_partition.current.partition, "eks", var.region, data.aws_caller_identity.current.account_id,
    "cluster/${local.name}",
  ])
  secret_arns           = [local.api_db_secret_arn_pattern, local.api_write_tokens_secret_arn_pattern]
  kms_key_arns          = [module.rds.kms_key_arn]
  signature_bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::${local.name}-image-signatures-${data.aws_caller_identity.current.account_id}"
  signature_kms_key_arn = module.image_signatures.kms_key_arn
  state_bucket          = var.ci_state_bucket
  state_key             = var.ci_state_key

  tags = var.tags
}
