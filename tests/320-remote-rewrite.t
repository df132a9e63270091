#!/bin/bash
# Per-route rewriting of local addresses as mail leaves through a route:
# the envelope sender and Return-Path, From, Sender, Reply-To,
# Mail-Followup-To; by local part or domain only; display names, groups
# and folded headers kept; non-local addresses, recipients' fields and
# the body untouched; another route without rules sends it unchanged.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
plan 15

inst_new
remote_setup
me=$(cat "$MM_HOME/control/me")
p=$(smtpserver isp --pipelining)
route isp smarthost "127.0.0.1:$p"
route isp rewrite "alice alice.smith@isp.example
* *@isp.example"
p2=$(smtpserver plain --pipelining)
route plain smarthost "127.0.0.1:$p2"

m=$(printf '%s\n' \
  "From: \"Smith, Alice\" <alice@$me> (at home)" \
  "Sender: bob@localhost" \
  "Reply-To: friends: carol@$me,"  \
  "  someone@elsewhere.example;, Bob" \
  "	<bob@$me>" \
  "Mail-Followup-To: alice@$me, list@lists.example" \
  "To: bob@$me, dave@b.example" \
  "Subject: rewriting" \
  "" \
  "Body mentions alice@$me and stays." | queue_msg -f "alice@$me" dave@b.example)

res=$(req "$m" "alice@$me" dave@b.example | remote isp 127.0.0.1)
like "$res" "^$m dave@b.example K" "sent through the rewriting route"
f=$(spool_file isp 1)
is "$(sed -n 1p "$f")" "from alice.smith@isp.example" "the envelope sender is rewritten by local part"
is "$(grep '^From:' "$f")" "From: \"Smith, Alice\" <alice.smith@isp.example> (at home)" "From: display name and comment kept"
is "$(grep '^Sender:' "$f")" "Sender: bob@isp.example" "Sender: domain only"
is "$(sed -n '/^Reply-To:/,/^Mail-Followup-To:/p' "$f" | sed '$d')" "Reply-To: friends: carol@isp.example,
  someone@elsewhere.example;, Bob
	<bob@isp.example>" "Reply-To: a group and a folded field, non-local untouched"
is "$(grep '^Mail-Followup-To:' "$f")" "Mail-Followup-To: alice.smith@isp.example, list@lists.example" "Mail-Followup-To"
is "$(grep '^To:' "$f")" "To: bob@$me, dave@b.example" "To: is not rewritten"
like "$(cat "$f")" "^Body mentions alice@$me and stays\.$" "the body is untouched"

res=$(req "$m" "alice@$me" dave@b.example | remote plain 127.0.0.1)
f=$(spool_file plain 1)
is "$(sed -n 1p "$f")" "from alice@$me" "a route without rules keeps the envelope sender"
is "$(grep '^From:' "$f")" "From: \"Smith, Alice\" <alice@$me> (at home)" "and the header"

# a bounce (null sender) stays a bounce
res=$(req "$m" "" dave@b.example | remote isp 127.0.0.1)
is "$(sed -n 1p "$(spool_file isp 2)")" "from <>" "the null sender is never rewritten"

# bare local parts in every address field: mm-inject qualifies them, the
# route rewrites them like the others
m2=$(printf 'From: alice\nMail-Followup-To: foo, <bar>\nMail-Reply-To: Alice <alice>\nResent-From: bob\nTo: dave@b.example\nSubject: bare\n\nx\n' | queue_msg -f "alice@$me" dave@b.example)
res=$(req "$m2" "alice@$me" dave@b.example | remote isp 127.0.0.1)
f=$(spool_file isp 3)
is "$(grep '^Mail-Followup-To:' "$f")" "Mail-Followup-To: foo@isp.example, <bar@isp.example>" "Mail-Followup-To with bare local parts: qualified, then rewritten"
is "$(grep '^Mail-Reply-To:' "$f")" "Mail-Reply-To: Alice <alice.smith@isp.example>" "Mail-Reply-To too"
is "$(grep '^Resent-From:' "$f")" "Resent-From: bob@isp.example" "Resent-From too"

# a malformed rewrite file: temporary, nothing sent
route isp rewrite "alice"
res=$(req "$m" "alice@$me" dave@b.example | remote isp 127.0.0.1)
like "$res" "^$m dave@b.example Z4\.3\.5 the rewrite file is malformed" "a malformed rewrite file is a temporary failure"
