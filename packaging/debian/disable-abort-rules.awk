# Comments out every [[rule]] whose action is "abort", so the config a package installs can never abort.
# A rule runs from its [[rule]] line to the line before the next table header or the end of the file.
function flush(   i) {
  for (i = 1; i <= n; i++) {
    line = block[i]
    if (aborting && line !~ /^[[:space:]]*(#|$)/) line = "# " line
    print line
  }
  n = 0; aborting = 0
}
BEGIN {
  print "# As installed by the upload-reaper package: every abort rule below is commented out, so nothing"
  print "# is aborted until you enable one. Try a rule first with: upload-reaper scan --dry-run"
  print ""
}
/^[[:space:]]*\[/ { flush(); inrule = ($0 ~ /^[[:space:]]*\[\[rule\]\]/) }
{
  if (inrule) {
    block[++n] = $0
    if ($0 ~ /^[[:space:]]*action[[:space:]]*=[[:space:]]*"abort"/) aborting = 1
  } else {
    print
  }
}
END { flush() }
