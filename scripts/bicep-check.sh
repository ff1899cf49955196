#!/usr/bin/env bash
# Builds and lints the Bicep templates with a pinned Bicep CLI, and evaluates main.bicep's two network variants
# (vnetEnabled false/true) with `bicep snapshot`; fails on any error, warning or diagnostic.
#
# The Bicep CLI is not on npm: it is fetched from NuGet (Azure.Bicep.CommandLine.linux-x64) with a
# `dotnet restore` of a throwaway project, into the NuGet cache, once. Without dotnet the check is
# skipped with a notice (exit 0), so machines without the .NET SDK can still run the other checks.
#
#   scripts/bicep-check.sh            # BICEP_VERSION=0.49.2 by default; BICEP=/path/to/bicep to use another
set -euo pipefail
cd "$(dirname "$0")/.."

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
TEMPLATES=(main.bicep event-subscription.bicep)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64) rid=linux-arm64 ;;
  Darwin-x86_64) rid=osx-x64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  *) echo "bicep-check: no Bicep CLI package for $(uname -s)-$(uname -m); skipped" >&2; exit 0 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

bicep="${BICEP:-}"
if [ -z "$bicep" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "bicep-check: dotnet is not installed, so the Bicep CLI cannot be fetched from NuGet; Bicep not checked" >&2
    exit 0
  fi
  packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
  bicep="$packages/azure.bicep.commandline.$rid/$BICEP_VERSION/tools/bicep"
  if [ ! -f "$bicep" ]; then
    echo "bicep-check: fetching Azure.Bicep.CommandLine.$rid $BICEP_VERSION from NuGet"
    mkdir -p "$work/fetch"
    cat >"$work/fetch/fetch-bicep.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Azure.Bicep.CommandLine.$rid" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
XML
    # The registry is reached over the network: retry a failed restore twice before giving up.
    restored=false
    for attempt in 1 2 3; do
      if DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet restore "$work/fetch/fetch-bicep.csproj" --verbosity quiet >"$work/restore.log" 2>&1; then
        restored=true
        break
      fi
      echo "bicep-check: dotnet restore failed (attempt $attempt)" >&2
      sleep $((attempt * 5))
    done
    $restored || { cat "$work/restore.log" >&2; echo "bicep-check: dotnet restore failed" >&2; exit 1; }
  fi
  # The package does not always keep the executable bit.
  [ -x "$bicep" ] || chmod +x "$bicep"
fi
echo "bicep-check: $("$bicep" --version)"

# Check a copy, so the generated permissions file can be supplied without touching the working tree.
cp -R infra "$work/infra"
if [ ! -f "$work/infra/app-permissions.parameters.json" ]; then
  # main.bicep loads the file `npm run infra:params` generates from the rules; for the check, generate it
  # from the example rules (its custom role gets a placeholder id: only the templates are checked here).
  node --import tsx scripts/infra/params.ts config/rules.example.yaml \
    --out "$work/infra/app-permissions.parameters.json" \
    --custom-role "Contoso App Config Reader=00000000-0000-0000-0000-00000000c0de" --offline >/dev/null
fi

status=0
for template in "${TEMPLATES[@]}"; do
  for command in build lint; do
    args=("$command" "$work/infra/$template")
    [ "$command" = build ] && args+=(--outdir "$work/out")
    if ! "$bicep" "${args[@]}" >"$work/log" 2>&1; then status=1; fi
    # Bicep exits 0 on warnings: any diagnostic at all fails the check.
    if grep -Eq ': (Error|Warning|Info) ' "$work/log"; then status=1; fi
    sed "s|$work/||g" "$work/log"
    echo "bicep-check: bicep $command infra/$template: $(grep -Ec ': Error ' "$work/log" || true) error(s), $(grep -Ec ': Warning ' "$work/log" || true) warning(s)"
  done
done

# Both network variants of main.bicep, evaluated locally (`bicep snapshot`: modules expanded, conditions and
# loops evaluated against a placeholder subscription, no Azure call): any diagnostic fails the check.
# test/infra/network.test.ts asserts on what each variant deploys.
for vnet in false true; do
  cat >"$work/infra/variant.bicepparam" <<PARAMS
using 'main.bicep'
param environmentName = 'check'
param location = 'eastus'
param vnetEnabled = $vnet
PARAMS
  if ! "$bicep" snapshot "$work/infra/variant.bicepparam" --mode overwrite \
    --subscription-id 00000000-0000-0000-0000-0000000000a1 --tenant-id 00000000-0000-0000-0000-0000000000b2 \
    --location eastus >"$work/log" 2>&1; then status=1; fi
  sed "s|$work/||g" "$work/log"
  diagnostics=$(node -e 'const s = require(process.argv[1]); console.log(s.diagnostics.length + " diagnostic(s), " + s.predictedResources.length + " resource(s)"); if (s.diagnostics.length) { console.error(JSON.stringify(s.diagnostics, null, 2)); process.exit(1); }' \
    "$work/infra/variant.snapshot.json") || status=1
  echo "bicep-check: bicep snapshot infra/main.bicep vnetEnabled=$vnet: $diagnostics"
done
[ "$status" -eq 0 ] && echo "bicep-check: OK" || echo "bicep-check: FAILED" >&2
exit "$status"
