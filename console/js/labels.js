// The words staff use (issue #11).

export const STATUSES = [
  ["pending", "待接单"],
  ["accepted", "已接单"],
  ["departed", "已出发"],
  ["arrived", "已到达"],
  ["in_progress", "服务中"],
  ["completed", "已完成"],
  ["cancelled", "已取消"],
  ["expired", "已过期"],
];
export const STATUS_LABEL = Object.fromEntries(STATUSES);
export const LIVE_STATUSES = new Set(["pending", "accepted", "departed", "arrived", "in_progress"]);

export const URGENCY_LABEL = { normal: "普通", urgent: "加急", emergency: "紧急" };
export const MODE_LABEL = { grab: "抢单", auto: "自动派单", direct: "指定师傅" };
export const PAYMENT_LABEL = {
  unpaid: "未支付", paying: "支付中", paid: "已支付", refunding: "退款中",
  refunded: "已退款", partially_refunded: "部分退款", failed: "支付失败",
};
export const PROVIDER_STATE_LABEL = { online: "空闲", busy: "服务中", offline: "离线" };

export const ALERT_LABEL = {
  no_provider_nearby: "附近没有可接单师傅",
  dispatch_exhausted: "自动派单失败，需人工处理",
  provider_lost: "师傅在服务中掉线",
  order_handed_back: "师傅退回订单",
  no_show: "师傅未按时出发",
  offer_unanswered: "指派未获回应",
  payment_mismatch: "支付金额不符",
  payment_due: "订单待支付提醒",
  low_review: "差评",
  complaint: "新投诉",
  no_number_available: "无可用隐私号",
  order_untaken: "订单长时间无人接单",
  payment_failed: "支付失败",
  refund_failed: "退款失败",
};

export const REASON_LABEL = {
  offline: "离线", not_verified: "未认证", no_skill: "无此技能",
  outside_service_area: "不在服务区域", already_tried: "已尝试过", at_capacity: "接单已满",
  schedule_conflict: "时间冲突", stale_location: "定位过旧", cooling_down: "冷却中",
  too_many_offers: "待回应派单过多",
};

// Dispatch (docs/api.md "Dispatch"): the chain's stages, strategies, score parts.
export const STAGE_LABEL = {
  scheduled: "等待预约派单", grab: "抢单大厅", window: "合并匹配", batches: "分批派单",
  assign: "系统指派", alert: "转人工",
};
export const STRATEGY_LABEL = { nearest: "就近", weighted: "综合评分" };
export const PART_LABEL = {
  distance: "距离", rating: "评分", load: "负载", acceptance: "接单率", idle: "空闲时长",
  previous: "老客师傅",
};
export const ROLE_LABEL = {
  customer: "客户", provider: "师傅", dispatcher: "调度", admin: "管理员", system: "系统",
  staff: "客服",
};
export const ACTION_LABEL = {
  create: "下单", dispatch: "派单", grab: "抢单", accept: "接单", decline: "拒单/退回",
  assign: "人工指派", auto_assign: "系统指派", offer_timeout: "派单超时", expire: "过期",
  depart: "出发", arrive: "到达", quote: "报价", "confirm-quote": "确认报价", start: "开工",
  complete: "完工", cancel: "取消", slot_reminder: "预约提醒", no_show: "师傅未按时出发",
  payment_opened: "发起支付", paid: "已支付", payment_failed: "支付失败",
  payment_closed: "支付关闭", refund_requested: "申请退款", refunded: "已退款",
  refund_failed: "退款失败", redispatch: "重新派单", reassign: "改派",
};

export const label = (table, key) => table[key] ?? String(key ?? "—");
