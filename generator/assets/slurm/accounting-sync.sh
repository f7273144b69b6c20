#!/bin/sh
# Slurm accounting from the site's LDAP (siteforge): every group in SYNC_GROUPS becomes a Slurm
# account of the same name in cluster SLURM_CLUSTER, and each of its members a user with an
# association to it. With SYNC_PRUNE=true, a user who left a group loses that association. Run
# by the slurm-accounting-sync CronJob as the Slurm user (slurmdbd's administrator), beside munged.
#
# Names read from the directory are data: one Slurm would not take, or that could read as an
# option, is skipped with a warning. A group the directory does not return is left untouched
# (never emptied), and nothing is changed when the directory cannot be searched.
#
# Environment: LDAP_URL, LDAP_STARTTLS (true|false), LDAP_GROUP_BASE, LDAP_BIND_DN (empty: anonymous),
# LDAP_PASSWORD_FILE, LDAP_USER_ATTRIBUTE, LDAP_MEMBER_ATTRIBUTE (memberUid|member), SYNC_GROUPS
# (space-separated), SYNC_PRUNE (true|false), SLURM_CLUSTER.
set -eu

NAME='^[a-z_][a-z0-9_.-]{0,63}$'
failures=0
added=0
removed=0

warn() { printf 'accounting-sync: warning: %s\n' "$*" >&2; }
valid() { printf '%s\n' "$1" | grep -Eq "$NAME"; }

# The directory's entry for group $1: its member lines (the whole LDIF), or nothing when no such group.
group_entry() {
  group=$1
  set -- -LLL -o ldif_wrap=no -x -H "$LDAP_URL" -b "$LDAP_GROUP_BASE"
  [ "$LDAP_STARTTLS" = true ] && set -- "$@" -ZZ
  [ -n "$LDAP_BIND_DN" ] && set -- "$@" -D "$LDAP_BIND_DN" -y "$LDAP_PASSWORD_FILE"
  ldapsearch "$@" "(cn=$group)" dn "$LDAP_MEMBER_ATTRIBUTE"
}

# Login names in an entry's member lines: memberUid values, or the user attribute of member DNs.
members_of() {
  if [ "$LDAP_MEMBER_ATTRIBUTE" = memberUid ]; then
    printf '%s\n' "$1" | sed -n 's/^memberUid: //p'
  else
    printf '%s\n' "$1" | sed -n "s/^member: $LDAP_USER_ATTRIBUTE=\\([^,]*\\),.*/\\1/p"
  fi
  if printf '%s\n' "$1" | grep -q "^$LDAP_MEMBER_ATTRIBUTE:: "; then warn "a member of $2 is not plain text (base64 in LDIF): skipped"; fi
}

accounts=$(sacctmgr -n -P show account format=account)
for group in $SYNC_GROUPS; do
  if ! entry=$(group_entry "$group"); then
    warn "searching $LDAP_URL for group $group failed: nothing changed"
    exit 1
  fi
  if ! printf '%s\n' "$entry" | grep -q '^dn:'; then
    warn "group $group is not under $LDAP_GROUP_BASE: left as it is"
    failures=$((failures + 1))
    continue
  fi
  if ! printf '%s\n' "$accounts" | grep -qxF -- "$group"; then
    sacctmgr -i add account "$group" Cluster="$SLURM_CLUSTER" Description="LDAP group $group" Organization=ldap >/dev/null
  fi
  wanted=$(members_of "$entry" "$group" | sort -u)
  have=$(sacctmgr -n -P show associations where account="$group" cluster="$SLURM_CLUSTER" format=user | sed '/^$/d' | sort -u)
  # One name per line (a name with a space stays one name, and is refused).
  while IFS= read -r user; do
    [ -n "$user" ] || continue
    if ! valid "$user"; then
      warn "member \"$user\" of $group is not a name Slurm takes: skipped"
      continue
    fi
    printf '%s\n' "$have" | grep -qxF -- "$user" && continue
    if sacctmgr -i add user "$user" Account="$group" Cluster="$SLURM_CLUSTER" >/dev/null; then
      added=$((added + 1))
    else
      warn "adding $user to $group failed"
      failures=$((failures + 1))
    fi
  done <<EOF
$wanted
EOF
  [ "$SYNC_PRUNE" = true ] || continue
  while IFS= read -r user; do
    [ -n "$user" ] || continue
    printf '%s\n' "$wanted" | grep -qxF -- "$user" && continue
    if sacctmgr -i remove user where name="$user" account="$group" cluster="$SLURM_CLUSTER" >/dev/null; then
      removed=$((removed + 1))
    else
      warn "removing $user from $group failed (their default account while they have others?)"
      failures=$((failures + 1))
    fi
  done <<EOF
$have
EOF
done
printf 'accounting-sync: %s: %s user associations added, %s removed, %s problems\n' "$SLURM_CLUSTER" "$added" "$removed" "$failures"
[ "$failures" -eq 0 ]
