# bash completion for crossmove(1). Installed by `cmake --install` into
# share/bash-completion/completions/crossmove; the install_ test checks that it offers exactly the
# subcommands and setting flags of `crossmove --help`.

_crossmove() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local commands="plan run status verify rollback forget complete suspend resume export"
  # Every setting is a flag too (crossmove(1), CONFIGURATION).
  local settings="--users-file --cleanup --target-database --nt-account-ou --contacts-ou
    --target-smtp-domain --address-template --allow-merge --keep-source-primary --parallel
    --sweep-delay --bad-item-limit --max-deletions --report --journal --journal-credential
    --worker-lease --max-moves-per-source-database --max-moves-per-target-database
    --max-moves-per-source-server --max-moves-per-target-server --event-log --verify --csv-delimiter
    --start-after --complete-after --suspend-when-ready --incremental-sync-interval
    --source-gc --source-dc --source-base --source-bind --source-credential --source-domains
    --source-sasl-mech --source-starttls --source-tls-verify --source-ca-file --source-timeout
    --source-transactions --source-page-size --source-org-name
    --target-gc --target-dc --target-base --target-bind --target-credential --target-domains
    --target-sasl-mech --target-starttls --target-tls-verify --target-ca-file --target-timeout
    --target-transactions --target-page-size --target-org-name"
  local global="--config --help --json --version $settings"

  local command="" i
  for ((i = 1; i < cword; i++)); do
    case " $commands " in *" ${words[i]} "*) command=${words[i]}; break ;; esac
  done

  case $prev in
    --config | --users-file | --report | --journal | --event-log | --source-ca-file | \
      --target-ca-file | -o | --output | --ldif)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
    --cleanup)
      mapfile -t COMPREPLY < <(compgen -W "None DeleteSourceMailbox DeleteSourceNTAccount
        CreateSourceContact MailEnableSourceAccount" -- "$cur")
      return ;;
    --verify) mapfile -t COMPREPLY < <(compgen -W "content full sizes" -- "$cur"); return ;;
    --side) mapfile -t COMPREPLY < <(compgen -W "source target" -- "$cur"); return ;;
    --format) mapfile -t COMPREPLY < <(compgen -W "csv json" -- "$cur"); return ;;
  esac

  local options
  case $command in
    "") options="$commands $global" ;;
    plan) options="--json --ldif" ;;
    run) options="--dry-run --json --wait --watch" ;;
    status) options="--json" ;;
    verify) options="--json --mta" ;;
    rollback) options="--all --dry-run --json --wait" ;;
    forget) options="--json" ;;
    complete) options="--all --approve-skipped --approve-deletions --wait --json" ;;
    suspend | resume) options="--all --json" ;;
    export) options="--side --filter --identity --format -o --output --separator --all --json" ;;
  esac
  # CLI11 lets the global options follow the subcommand too.
  [ -n "$command" ] && [[ $cur == -* ]] && options="$options $global"
  mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
}
complete -F _crossmove crossmove
