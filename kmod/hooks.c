// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP hooks: tracepoint probes that turn state changes, retransmission
 * timeouts and ACKs of watched sockets into events.
 *
 * inet_sock_set_state is not exported, so it is found by name with
 * for_each_kernel_tracepoint(); one probe there sees every way a socket
 * dies, and sk_err, already set when TCP_CLOSE is entered, tells why.
 * tcp_send_reset marks the active RST that precedes a keepalive abort.
 *
 * SUSPECT comes from tcp_cong_state_set (5.19+), which tcp_enter_loss()
 * fires with TCP_CA_Loss in both branches of tcp_retransmit_timer() (6.1
 * and 6.12 alike): the zero-window one and the normal one, once
 * tcp_write_timeout() has decided to go on and before the retransmission,
 * whatever becomes of it. tcp_retransmit_skb, used before, fires only when
 * the retransmission leaves, so a route withdrawn, a netfilter OUTPUT drop
 * or a full qdisc gave no SUSPECT; nor did the zero-window branch, which
 * does not count icsk_retransmits. A kprobe on tcp_retransmit_timer()
 * would see them too, but it needs CONFIG_KPROBES and an uninlined symbol,
 * traps on every RTO of the host, fires at the fatal timeout as well, and
 * would have to redo the timer's own checks. The tracepoint also fires on
 * the other ways into Loss, told apart here: a path MTU drop enters it with
 * the retransmission timer pending, whereas tcp_write_timer_handler()
 * clears icsk_pending before an RTO; a Fast Open child's SYN-ACK timeout
 * has fastopen_rsk set.
 *
 * Scope: ESTABLISHED, CLOSE-WAIT, FIN-WAIT-1, CLOSING and LAST-ACK sockets
 * that their program still holds, the sockets DEAD is sent for; an orphan
 * is nobody's concern any more.
 *
 * RECOVERED ends the episode when the peer acknowledges new data: the ACK
 * is compared with snd_una whatever icsk_retransmits says (an F-RTO undo
 * clears it with no new data acknowledged). tcp_probe fires for each
 * segment an ESTABLISHED socket receives, before it is processed; tcp_ack()
 * is static and a kretprobe on it would tax every ACK of the system with a
 * trap. A segment with an acceptable ACK that TCP then drops for other
 * reasons (PAWS, a bad sequence) ends the episode early; a later timeout
 * starts a new one. tcp_probe does not fire in the closing states: there
 * the episode ends when the socket leaves TCP_CA_Loss, once the data
 * outstanding at the timeout is acknowledged (or the timeout is found
 * spurious). The probes cost one atomic read while no socket is SUSPECT.
 *
 * Probes run in softirq or with the socket owned: they never sleep, never
 * take lock_sock, and allocate with GFP_ATOMIC.
 */
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/tracepoint.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <trace/events/sock.h>
#include <trace/events/tcp.h>
#include <linux/peerwatch.h>

#include "compat.h"
#include "event.h"
#include "hooks.h"
#include "pernet.h"
#include "policy.h"
#include "sock.h"
#include "track.h"

static bool watch_all;
module_param(watch_all, bool, 0644);
MODULE_PARM_DESC(watch_all, "Watch every TCP socket, not only those with a user timeout");

/*
 * The socket whose active RST this CPU sent last, before its move to
 * TCP_CLOSE. A keepalive abort sends it and closes the socket in the same
 * timer run, on the same CPU, where the state hook takes the record back.
 */
static DEFINE_PER_CPU(const struct sock *, pw_rst_sk);

static bool pw_watched(const struct sock *sk)
{
	return READ_ONCE(inet_csk(sk)->icsk_user_timeout) ||
	       READ_ONCE(watch_all);
}

/*
 * Did a timer give up on @sk? tcp_write_err() closes with the soft error
 * an ICMP message or a failed route left, or ETIMEDOUT, and the timer
 * handlers clear icsk_pending first: the retransmission and zero-window
 * timers as they fire, the keepalive timer runs with neither armed. Any
 * other error was set directly: an ICMP error ending a connection attempt
 * (the retransmission timer still armed), or, with IP_RECVERR, one the
 * program has not read yet on a socket that then closes normally.
 */
static bool pw_timer_gave_up(const struct sock *sk, int err)
{
	if (READ_ONCE(inet_csk(sk)->icsk_pending))
		return false;
	return err == ETIMEDOUT || err == READ_ONCE(sk->sk_err_soft);
}

/* Why did @sk enter TCP_CLOSE from @oldstate? 0 (UNSPEC) for a normal close. */
static enum peerwatch_reason pw_dead_reason(const struct sock *sk,
					    int oldstate, bool rst_sent)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	int err = READ_ONCE(sk->sk_err);

	switch (err) {
	case 0:
		return PEERWATCH_REASON_UNSPEC;
	case ECONNABORTED:
		return PEERWATCH_REASON_ABORT;
	case ECONNRESET:
	case EPIPE:
	case ECONNREFUSED:
		return PEERWATCH_REASON_RESET;
	}

	/*
	 * An ICMP error refuses a connection attempt as a RST would, at the
	 * first SYN or at a retransmission of it alike; elsewhere an error
	 * no timer left is stale and the close a normal one.
	 */
	if (!pw_timer_gave_up(sk, err))
		return (1 << oldstate) & (TCPF_SYN_SENT | TCPF_SYN_RECV) ?
		       PEERWATCH_REASON_RESET : PEERWATCH_REASON_UNSPEC;
	if (icsk->icsk_retransmits)
		return icsk->icsk_user_timeout ? PEERWATCH_REASON_USER_TIMEOUT :
						 PEERWATCH_REASON_RETRIES;
	if (rst_sent)
		return PEERWATCH_REASON_KEEPALIVE;
	if (!tcp_sk(sk)->snd_wnd)
		return PEERWATCH_REASON_ZERO_WINDOW;
	return sock_flag(sk, SOCK_KEEPOPEN) ? PEERWATCH_REASON_KEEPALIVE :
					      PEERWATCH_REASON_ZERO_WINDOW;
}

static void pw_probe_set_state(void *data, const struct sock *sk,
			       const int oldstate, const int newstate)
{
	enum peerwatch_reason reason;
	bool rst_sent;

	if (sk->sk_protocol != IPPROTO_TCP)
		return;
	if (newstate == TCP_ESTABLISHED) {
		pw_policy_apply(sk);
		return;
	}
	if (newstate != TCP_CLOSE)
		return;

	rst_sent = this_cpu_xchg(pw_rst_sk, NULL) == sk;
	if (pw_track_any())
		pw_track_del(sk);

	/* A socket its program already closed is no longer watched. */
	if (!pw_watched(sk) || sock_flag(sk, SOCK_DEAD) ||
	    !pw_event_listening(sk))
		return;
	reason = pw_dead_reason(sk, oldstate, rst_sent);
	if (reason)
		pw_event_send((struct sock *)sk, PEERWATCH_EVENT_DEAD, reason,
			      oldstate);
}

#if PW_TCP_SEND_RESET_HAS_REASON
static void pw_probe_send_reset(void *data, const struct sock *sk,
				const struct sk_buff *skb,
				const enum sk_rst_reason reason)
#else
static void pw_probe_send_reset(void *data, const struct sock *sk,
				const struct sk_buff *skb)
#endif
{
	/*
	 * skb is the segment that caused a passive RST; NULL for ours. The
	 * resets of tcp_close() with unread data, of SO_LINGER 0 and of
	 * tcp_disconnect() follow the move to TCP_CLOSE: recorded, they would
	 * outlive it and make a later death of a socket at that address
	 * look like a keepalive abort.
	 */
	if (!skb && sk && sk->sk_state != TCP_CLOSE)
		this_cpu_write(pw_rst_sk, sk);
}

/* The states a watched socket gets SUSPECT and DEAD in. */
#define PW_EPISODE_STATES (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | \
			   TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK)

static void pw_recovered(struct sock *sk)
{
	if (!pw_track_find(sk) || !pw_track_del(sk))
		return;
	if (pw_event_listening(sk))
		pw_event_send(sk, PEERWATCH_EVENT_RECOVERED,
			      PEERWATCH_REASON_UNSPEC, sk->sk_state);
}

static void pw_probe_cong_state(void *data, struct sock *sk, const u8 ca_state)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	int ret;

	if (ca_state != TCP_CA_Loss) {
		/* Leaving Loss where tcp_probe cannot see the ACK. */
		if (pw_track_any() && icsk->icsk_ca_state == TCP_CA_Loss &&
		    sk->sk_state != TCP_ESTABLISHED)
			pw_recovered(sk);
		return;
	}
	if (READ_ONCE(icsk->icsk_pending) ||
	    rcu_access_pointer(tcp_sk(sk)->fastopen_rsk))
		return;
	if (!((1 << sk->sk_state) & PW_EPISODE_STATES) ||
	    sock_flag(sk, SOCK_DEAD))
		return;
	if (!pw_watched(sk) || !pw_event_listening(sk))
		return;

	ret = pw_track_add(sk, pw_sock_cookie(sk));
	if (ret > 0)
		pw_event_send(sk, PEERWATCH_EVENT_SUSPECT,
			      PEERWATCH_REASON_UNSPEC, sk->sk_state);
	else if (ret < 0)
		pw_stat_inc(sock_net(sk), PEERWATCH_STAT_A_UNTRACKED);
}

static void pw_probe_rcv(void *data, struct sock *sk, struct sk_buff *skb)
{
	const struct tcp_skb_cb *tcb = TCP_SKB_CB(skb);
	const struct tcp_sock *tp = tcp_sk(sk);

	if (!pw_track_any())
		return;
	if (!(tcb->tcp_flags & TCPHDR_ACK) ||
	    !after(tcb->ack_seq, tp->snd_una) ||
	    after(tcb->ack_seq, tp->snd_nxt))
		return;
	pw_recovered(sk);
}

struct pw_hook {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	bool registered;
};

static struct pw_hook pw_hooks[] = {
	{ .name = "inet_sock_set_state", .probe = pw_probe_set_state },
	{ .name = "tcp_send_reset", .probe = pw_probe_send_reset },
	{ .name = "tcp_cong_state_set", .probe = pw_probe_cong_state },
	{ .name = "tcp_probe", .probe = pw_probe_rcv },
};

static void pw_hook_find(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pw_hooks); i++)
		if (!strcmp(tp->name, pw_hooks[i].name))
			pw_hooks[i].tp = tp;
}

void pw_hooks_exit(void)
{
	int i;

	for (i = ARRAY_SIZE(pw_hooks) - 1; i >= 0; i--) {
		if (!pw_hooks[i].registered)
			continue;
		tracepoint_probe_unregister(pw_hooks[i].tp, pw_hooks[i].probe,
					    NULL);
		pw_hooks[i].registered = false;
	}
	/* No probe runs or will run once this returns. */
	tracepoint_synchronize_unregister();
}

/*
 * Every tracepoint is found before any probe is registered: a kernel that
 * lacks one fails here with nothing running. @fail_step, for tests of the
 * error paths, fails init after step N: 1 the look-up, 2 and on the
 * registration of each probe.
 */
int __init pw_hooks_init(unsigned int fail_step)
{
	int i, ret;

	/* The probes match the tracepoints' prototypes. */
	check_trace_callback_type_inet_sock_set_state(pw_probe_set_state);
	check_trace_callback_type_tcp_send_reset(pw_probe_send_reset);
	check_trace_callback_type_tcp_cong_state_set(pw_probe_cong_state);
	check_trace_callback_type_tcp_probe(pw_probe_rcv);

	for_each_kernel_tracepoint(pw_hook_find, NULL);
	for (i = 0; i < ARRAY_SIZE(pw_hooks); i++) {
		if (!pw_hooks[i].tp) {
			pr_err("tracepoint %s not found\n", pw_hooks[i].name);
			return -ENOENT;
		}
	}
	if (fail_step == 1)
		return -ECANCELED;

	for (i = 0; i < ARRAY_SIZE(pw_hooks); i++) {
		ret = tracepoint_probe_register(pw_hooks[i].tp,
						pw_hooks[i].probe, NULL);
		if (ret)
			goto err_unregister;
		pw_hooks[i].registered = true;
		if (fail_step == i + 2) {
			ret = -ECANCELED;
			goto err_unregister;
		}
	}
	return 0;

err_unregister:
	pw_hooks_exit();
	return ret;
}
