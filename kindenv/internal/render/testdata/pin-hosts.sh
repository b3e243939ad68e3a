#!/bin/sh
# Rendered by azsim kindenv.RenderHostsScript; do not edit.
set -e
{ grep -v ' # azsim$' /etc/hosts || true; echo '172.18.0.7 login.microsoftonline.com eastus.oic.prod-aks.azure.com azsimacr.azurecr.io # azsim'; } > /tmp/azsim-hosts
cat /tmp/azsim-hosts > /etc/hosts
rm -f /tmp/azsim-hosts
