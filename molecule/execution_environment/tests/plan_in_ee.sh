#!/bin/bash
# Run inside the execution environment from the repository's root: the provision stage's Terraform plan of one
# cloud environment against the AWS emulator. The inventory's Terraform variables come through role aws_infra;
# the composition is planned on a scratch copy beside /out/override.tf (the emulator's endpoints). No CLI
# configuration: the provider comes from the image's implicit mirror, since no registry is reachable.
# Usage: plan_in_ee.sh <dev|staging|prod>; writes /out/<environment>.json (terraform show -json).
set -euo pipefail
env="$1"
work=$(mktemp -d)
cp -r terraform "$work/"
root="$work/terraform/environments/$env"
cp /out/override.tf "$root/zz_test_emulator_override.tf"
ansible-playbook tests/terraform/render_tfvars.yml -i "inventories/$env" -e "aws_infra_render_to=$work/vars.json"
# The only change to the inventory's values: the emulator's account.
python3 -c 'import json, sys; v = json.load(open(sys.argv[1])); v["allowed_account_ids"] = ["123456789012"]
json.dump(v, open(sys.argv[2], "w"))' "$work/vars.json" "$work/test.tfvars.json"
export TF_DATA_DIR="$work/.terraform" TF_IN_AUTOMATION=1
terraform -chdir="$root" init -input=false -no-color
terraform -chdir="$root" plan -input=false -no-color -var-file="$work/test.tfvars.json" -out="$work/plan"
terraform -chdir="$root" show -json "$work/plan" >"/out/$env.json"
