# Composition of the titanic platform. Identical in every environment (tests/terraform checks it);
# only providers.tf differs, and every size comes from variables.

locals {
  name = "titanic-${var.environment}"
  # Secrets Manager name of the API's database login: role aws_services fills it, the deploy stage reads it.
  api_db_secret_name = "titanic/${var.environment}/api/database"
}

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
  access_entries               = var.cluster_access_entries
  log_retention_days           = var.log_retention_days
  node_groups                  = var.node_groups
  node_launch_template         = var.node_launch_template

  tags = var.tags
}

module "rds" {
  source = "../../modules/rds"

  identifier                   = local.name
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.private_subnet_ids
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

module "backup_storage" {
  source = "../../modules/backup_storage"

  name          = local.name
  buckets       = var.backup_buckets
  force_destroy = var.force_destroy

  tags = var.tags
}

module "irsa_api" {
  source = "../../modules/irsa"

  role_name                  = "${local.name}-api"
  oidc_provider_arn          = module.eks.oidc_provider_arn
  namespace_service_accounts = [var.api_service_account]
  secret_arns                = [module.rds.master_user_secret_arn]
  kms_key_arns               = [module.rds.kms_key_arn]

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
