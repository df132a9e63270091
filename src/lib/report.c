/* Composing bounces and delay warnings as RFC 3464 multipart/report
   messages from MAILER-DAEMON, and queueing them through mm-queue. */

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sysexits.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "control.h"
#include "date822.h"
#include "qspawn.h"
#include "report.h"

#define REPORT_HEADER_MAX (256 * 1024)  /* the original header in a report, at most */

void report_init (report *r, int fd, qfile const *q, int final)
{
  r->fd = fd ; r->q = q ; r->final = final ; r->n = 0 ;
  r->human = (stralloc)STRALLOC_ZERO ;
  r->status = (stralloc)STRALLOC_ZERO ;
  r->to = (stralloc)STRALLOC_ZERO ;
}

void report_free (report *r)
{
  stralloc_free(&r->human) ;
  stralloc_free(&r->status) ;
  stralloc_free(&r->to) ;
}

/* "5.1.1 text" -> status "5.1.1" and the text after it. */
static void split_status (char const *text, char *status, char const **rest, int failed)
{
  size_t n = strspn(text, "0123456789.") ;
  if (n >= 5 && n < 12 && (text[0] == '4' || text[0] == '5') && text[1] == '.')
  {
    memcpy(status, text, n) ; status[n] = 0 ;
    text += n ;
    while (*text == ' ') text++ ;
  }
  else strcpy(status, failed ? "5.0.0" : "4.0.0") ;
  *rest = text ;
}

void report_add (report *r, char const *rcpt, char const *target, char const *text, int failed)
{
  char status[16] ;
  char const *rest ;
  split_status(text, status, &rest, failed) ;
  r->n++ ;
  stralloc_cats(&r->human, "<") ; stralloc_cats(&r->human, rcpt) ; stralloc_cats(&r->human, ">") ;
  if (target[0] != 'u' && target[0] != 'r' && target[0] != '!')
  {
    stralloc_cats(&r->human, " (") ; stralloc_cats(&r->human, target) ; stralloc_cats(&r->human, ")") ;
  }
  else if (target[0] == 'r' && strcmp(target + 1, rcpt))
  {
    stralloc_cats(&r->human, " (forwarded to ") ; stralloc_cats(&r->human, target + 1) ; stralloc_cats(&r->human, ")") ;
  }
  stralloc_cats(&r->human, ":\n    ") ; stralloc_cats(&r->human, rest) ; stralloc_cats(&r->human, "\n\n") ;

  stralloc_cats(&r->status, "\nFinal-Recipient: rfc822; ") ; stralloc_cats(&r->status, rcpt) ;
  stralloc_cats(&r->status, "\nAction: ") ; stralloc_cats(&r->status, failed ? "failed" : "delayed") ;
  stralloc_cats(&r->status, "\nStatus: ") ; stralloc_cats(&r->status, status) ;
  stralloc_cats(&r->status, "\nDiagnostic-Code: x-mm; ") ; stralloc_cats(&r->status, rest) ;
  stralloc_cats(&r->status, "\n") ;
}

char const *report_recipient (report const *r)
{
  return r->to.s ? r->to.s : "" ;
}

char const *report_strerror (int code)
{
  return qspawn_strerror(code) ;
}

/* Copy the original message (or its header) from the queue file. */
static int copy_original (report *r, buffer *b, int whole)
{
  char buf[8192] ;
  off_t off = MESS_HEADER_LEN, end = MESS_HEADER_LEN + (off_t)r->q->messlen ;
  int atnl = 1 ;
  if (!whole && end - off > REPORT_HEADER_MAX) end = off + REPORT_HEADER_MAX ;
  while (off < end)
  {
    size_t want = end - off < (off_t)sizeof buf ? (size_t)(end - off) : sizeof buf ;
    ssize_t got = pread(r->fd, buf, want, off) ;
    size_t use ;
    if (got <= 0) return 0 ;
    use = got ;
    if (!whole)
    {
      /* the header ends at the first empty line */
      for (size_t i = 0 ; i < use ; i++)
      {
        if (buf[i] == '\n' && atnl) { if (buffer_put(b, buf, i) < 0) return 0 ; return 1 ; }
        atnl = buf[i] == '\n' ;
      }
    }
    if (buffer_put(b, buf, use) < 0) return 0 ;
    off += use ;
  }
  return 1 ;
}

int report_send (report *r, unsigned long bouncemax, char *id)
{
  qspawn qs ;
  buffer *b = &qs.mess ;
  char const *sender = r->q->strings.s + r->q->sender ;
  char const *me = control_me() ;
  char date[DATE822_LEN] ;
  char boundary[80] ;
  char const *rcpts[1] ;
  time_t now = time(0) ;
  /* a message from an SMTP client (an h field) may have a forged sender:
     its bounce carries the header only, so that mm is no backscatter
     amplifier (mm-send(8)) */
  int whole = r->final && r->q->messlen <= bouncemax && r->q->host == (size_t)-1 ;
  int isdouble = !*sender ;
  size_t n ;

  r->to.len = 0 ;
  if (isdouble)
  {
    if (!stralloc_cats(&r->to, "postmaster@") || !stralloc_cats(&r->to, me)) return EX_TEMPFAIL ;
  }
  else if (!stralloc_cats(&r->to, sender)) return EX_TEMPFAIL ;
  if (!stralloc_0(&r->to)) return EX_TEMPFAIL ;
  rcpts[0] = r->to.s ;

  n = 0 ;
  memcpy(boundary, "mm-report-", 10) ; n = 10 ;
  n += uint64_fmt(boundary + n, (uint64_t)now) ; boundary[n++] = '-' ;
  n += pid_fmt(boundary + n, getpid()) ; boundary[n++] = '-' ;
  n += uint64_fmt(boundary + n, (uint64_t)r->q->envstart) ; boundary[n] = 0 ;

  if (!qspawn_start(&qs)) return EX_TEMPFAIL ;
  date822_fmt(date, now) ;
  buffer_puts(b, "From: Mail Delivery System <MAILER-DAEMON@") ; buffer_puts(b, me) ; buffer_puts(b, ">\n") ;
  buffer_puts(b, "To: ") ; buffer_puts(b, r->to.s) ; buffer_puts(b, "\n") ;
  buffer_puts(b, "Subject: ") ;
  buffer_puts(b, r->final ? (isdouble ? "Undeliverable bounce" : "Undelivered Mail Returned to Sender") : "Delayed Mail (still being retried)") ;
  buffer_puts(b, "\nDate: ") ; buffer_puts(b, date) ;
  buffer_puts(b, "\nMessage-ID: <") ; buffer_puts(b, boundary + 10) ; buffer_puts(b, ".report@") ; buffer_puts(b, me) ;
  buffer_puts(b, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n") ;
  buffer_puts(b, "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"") ; buffer_puts(b, boundary) ;
  buffer_puts(b, "\"\n\nThis is a MIME-encapsulated delivery status notification.\n\n--") ; buffer_puts(b, boundary) ;
  buffer_puts(b, "\nContent-Type: text/plain; charset=us-ascii\nContent-Description: Notification\n\n") ;
  buffer_puts(b, "This is the mail system at ") ; buffer_puts(b, me) ; buffer_puts(b, ".\n\n") ;
  if (r->final)
    buffer_puts(b, "I'm sorry to have to tell you that your message could not be delivered\nto one or more recipients. It is attached below.\n\n") ;
  else
  {
    buffer_puts(b, "Your message has not been delivered yet to the recipients below. mm will\nkeep trying until it is ") ;
    buffer_puts(b, "too old, and tell you if it gives up.\nYou do not need to send it again.\n\n") ;
  }
  buffer_put(b, r->human.s, r->human.len) ;
  buffer_puts(b, "--") ; buffer_puts(b, boundary) ;
  buffer_puts(b, "\nContent-Type: message/delivery-status\nContent-Description: Delivery report\n\n") ;
  buffer_puts(b, "Reporting-MTA: dns; ") ; buffer_puts(b, me) ;
  buffer_puts(b, "\nArrival-Date: ") ; date822_fmt(date, (time_t)r->q->arrival) ; buffer_puts(b, date) ; buffer_puts(b, "\n") ;
  buffer_put(b, r->status.s, r->status.len) ;
  buffer_puts(b, "\n--") ; buffer_puts(b, boundary) ;
  buffer_puts(b, whole ? "\nContent-Type: message/rfc822\nContent-Description: Undelivered message\n\n"
                       : "\nContent-Type: text/rfc822-headers\nContent-Description: Message header\n\n") ;
  if (!copy_original(r, b, whole)) { qspawn_abort(&qs) ; return EX_TEMPFAIL ; }
  buffer_puts(b, "\n--") ; buffer_puts(b, boundary) ; buffer_puts(b, "--\n") ;
  return qspawn_finish(&qs, r->final ? (isdouble ? "2" : "b") : "w", "", rcpts, 1, id) ;
}
