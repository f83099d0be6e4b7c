import { isoSeconds, PRIORITIES, type TicketStore } from './data';
import { FLAG_FIRST_REPLY, type TicketEventLog } from './events';

/**
 * Metric event ids: event serial s makes the rows METRIC_ID_BASE + s * METRIC_STRIDE + k (k < METRIC_STRIDE), so
 * the metric rows follow the ticket events' (time, serial) order and their ids increase with it.
 */
export const METRIC_ID_BASE = 380_000_000_000;
export const METRIC_STRIDE = 8;

export type MetricName = 'reply_time' | 'requester_wait_time' | 'agent_work_time' | 'resolution_time';
export type MetricType = 'apply_sla' | 'activate' | 'pause' | 'fulfill' | 'update_status';

export interface TicketMetricEvent {
  id: number;
  ticket_id: number;
  metric: MetricName;
  instance_id: number;
  type: MetricType;
  time: string;
  sla?: { target: number; business_hours: boolean; policy: { id: number; title: string } };
  status?: { calendar: number; business: number };
  deleted: boolean;
}

const OPEN = 0;
const PENDING = 1;
const HOLD = 2;
const SOLVED = 3;
const CLOSED = 4;
const REPLY_TARGET_MINUTES: Readonly<Record<string, number>> = { Urgent: 60, High: 240, Normal: 480, Low: 1440 };
const PREMIUM_POLICY = { id: 360000100001, title: 'Premium SLA' };
const STANDARD_POLICY = { id: 360000100002, title: 'Standard SLA' };

const waiting = (status: number) => status === PENDING || status === HOLD;
const done = (status: number) => status === SOLVED || status === CLOSED;

/**
 * The metric events a ticket event makes: on creation the reply-time SLA and the four clocks started; the first
 * public agent reply fulfils reply_time; pending or on-hold pauses requester_wait_time (back to open starts it again);
 * solving fulfils resolution_time and reports its status.
 */
export function metricRows(log: TicketEventLog, store: TicketStore, serial: number): TicketMetricEvent[] {
  const ticketId = log.ticket[serial];
  const timestamp = log.timestamp[serial];
  const time = isoSeconds(timestamp);
  const rows: TicketMetricEvent[] = [];
  const add = (metric: MetricName, type: MetricType, extra: Partial<TicketMetricEvent> = {}) => {
    const id = METRIC_ID_BASE + serial * METRIC_STRIDE + rows.length;
    rows.push({ id, ticket_id: ticketId, metric, instance_id: 1, type, time, ...extra, deleted: false });
  };
  const kind = log.kindOf(serial);
  if (kind === 'create') {
    const priority = PRIORITIES[log.priority[serial]] ?? 'Normal';
    const premium = priority === 'Urgent' || priority === 'High';
    const sla = {
      target: REPLY_TARGET_MINUTES[priority],
      business_hours: priority !== 'Urgent',
      policy: premium ? PREMIUM_POLICY : STANDARD_POLICY,
    };
    add('reply_time', 'apply_sla', { sla });
    for (const metric of ['reply_time', 'requester_wait_time', 'agent_work_time', 'resolution_time'] as const) {
      add(metric, 'activate');
    }
  }
  if (log.flags[serial] & FLAG_FIRST_REPLY) add('reply_time', 'fulfill');
  // a new ticket counts as open before its creation
  const before = log.stateBefore(serial)?.status ?? OPEN;
  const after = log.status[serial];
  if (waiting(after) && !waiting(before)) add('requester_wait_time', 'pause');
  if (after === OPEN && waiting(before)) add('requester_wait_time', 'activate');
  if (done(after) && !done(before)) {
    const createdAt = store.ticket(ticketId)?.createdAt ?? timestamp;
    const calendar = Math.floor((timestamp - createdAt) / 60);
    add('resolution_time', 'fulfill');
    add('resolution_time', 'update_status', { status: { calendar, business: Math.floor(calendar * 0.3) } });
  }
  return rows;
}
