# Sourced by the MPI test scripts: compare_runs NAME REFERENCE_DIR RUN_DIR checks that every CSV
# file of the reference is byte-identical in the run and that the accuracy, byte and simulated
# time fields of summary.json are equal; it sets fail=1 and prints why otherwise.
fields='final_acc_mean final_acc_min final_acc_max final_loss_mean final_acc_avg_model final_consensus_distance bytes_sent_total header_bytes_sent_total messages_total sim_seconds'
compare_runs() {
  local name=$1 a=$2 b=$3 f k va vb
  for f in $(cd "$a" && ls *.csv); do
    if ! cmp -s "$a/$f" "$b/$f"; then echo "FAIL $name: $f differs"; fail=1; fi
  done
  for k in $fields; do
    va=$(grep "\"$k\":" "$a/summary.json") vb=$(grep "\"$k\":" "$b/summary.json")
    if [[ "$va" != "$vb" ]]; then echo "FAIL $name: $va vs $vb"; fail=1; fi
  done
}
