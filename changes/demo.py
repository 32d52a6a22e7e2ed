"""Demo changes: about 40 over the last 60 days and the next 30 in every state, walked through the services
on a stepped clock (real timelines, votes and opinions), with standard-change templates, a global and a
per-service freeze window, maintenance windows, and two scheduled changes that conflict."""

import datetime as dt
import random
import time
from dataclasses import dataclass, replace
from typing import Any, TextIO
from unittest import mock

from django.db import transaction
from django.utils import timezone

from changes.choices import Category, ChangeType, Recommendation, State, StepStatus, TemplateState
from changes.models import ApprovalRule, Change, ChangeTemplate, FreezeWindow, MaintenanceWindow, RiskQuestion
from changes.rules import freezes_over
from changes.services import (
    change_create,
    change_give_opinion,
    change_invite_opinions,
    change_record_review,
    change_record_step,
    change_transition,
    template_propose,
)
from opscenter.core.demo import Clock, last_notification_id, settle_notifications, stepped_clock
from opscenter.core.models import ConfigurationItem, Service, User
from opscenter.core.services import perform_transition

CAB = ["cab", "cab2", "cab3"]

# service, name, recurrence, local start, minutes
MAINTENANCE = [
    ("erp", "ERP 週六夜間維護時段", "FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), 360),
    ("finance-ledger", "財務核算週六夜間維護時段", "FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), 360),
    ("email", "郵件系統週六夜間維護時段", "FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), 360),
    ("office-network", "辦公網絡週六夜間維護時段", "FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), 420),
    ("crm", "CRM 週六夜間維護時段", "FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), 300),
    ("website", "官網每月第一個週日凌晨維護", "FREQ=MONTHLY;BYDAY=1SU", dt.time(1, 0), 240),
    ("hr-payroll", "薪資系統週六夜間維護時段", "FREQ=WEEKLY;BYDAY=SA", dt.time(22, 0), 300),
]

# The implementation plan of each category: steps, rollback, contingency.
PLANS = {
    Category.SOFTWARE_UPGRADE: (["備份資料庫與應用設定", "停止應用服務並公告用戶", "安裝更新套件", "啟動服務並檢查日誌",
                                 "抽查關鍵功能"], "還原更新前快照與設定備份", "聯繫原廠技術支援；保留舊版本節點待命"),
    Category.NETWORK_CONFIGURATION: (["備份設備配置", "將流量切換至備用設備", "套用新配置或固件並重啟",
                                      "檢查端口、路由與告警", "將流量切回"], "載入變更前配置並重啟設備",
                                     "備用設備持續承載流量；原廠工程師電話待命"),
    Category.HARDWARE_REPLACEMENT: (["確認故障部件與備件型號", "更換部件", "觀察自檢與重建結果"],
                                    "裝回原部件並聯繫原廠", "啟用熱備設備；原廠四小時到場服務"),
    Category.OTHER: (["公告受影響用戶", "調整設定", "驗證結果並通知用戶"], "恢復原設定", "服務台準備應答說明"),
}


@dataclass(frozen=True)
class Plan:
    """One demo change: what it is, where it stands, and when its window is (days from now)."""

    title: str
    target: str
    days: float
    services: tuple[str, ...]
    cis: tuple[str, ...] = ()
    people: tuple[str, str] = ("sysadmin", "sysadmin")  # requester, implementer
    kind: str = ChangeType.NORMAL
    category: str = Category.SOFTWARE_UPGRADE
    answers: int = 0  # questionnaire: 0 the lightest answers, 1 middling, 2 the heaviest
    template: str = ""
    variant: str = ""  # votes (a joint review half cast), opinions, override, failed, exact (window at `days`)
    hours: float = 2


PLANS_BY_STATE = [
    # closed, over the last two months
    Plan("核心交換機 core-sw-01 固件升級", State.CLOSED, -52, ("office-network",), ("NET-0001",),
         ("neteng", "neteng"), category=Category.NETWORK_CONFIGURATION),
    Plan("ERP 資料庫升級至 Oracle 19.21 RU", State.CLOSED, -45, ("erp",), ("DB-0001",), answers=2, hours=4),
    Plan("郵件系統 Exchange 累積更新 CU14", State.CLOSED, -38, ("email",), ("SRV-0003",)),
    Plan("更換存儲陣列第 7 號故障硬碟", State.CLOSED, -33, ("erp", "email", "file-share"), ("STO-0001",),
         template="更換 RAID 故障硬碟"),
    Plan("防火牆策略調整：開放供應商 SFTP", State.CLOSED, -28, ("office-network",), ("SEC-0001",),
         ("security", "security"), category=Category.NETWORK_CONFIGURATION, variant="override"),
    Plan("VPN 網關 SSL 憑證更新", State.CLOSED, -24, ("vpn",), ("NET-0004",), ("neteng", "neteng"),
         category=Category.NETWORK_CONFIGURATION),
    Plan("OA 服務器 11 月安全補丁", State.CLOSED, -19, ("oa",), ("SRV-0004",), template="作業系統月度安全補丁"),
    Plan("財務部電腦升級 Windows 11", State.CLOSED, -15, ("desktop-support",), ("PC-0101", "PC-0102"),
         ("desktop", "desktop"), category=Category.OTHER),
    Plan("緊急修補官網 Nginx 漏洞 CVE-2026-1180", State.CLOSED, -12.4, ("website",), ("SRV-0007",),
         kind=ChangeType.EMERGENCY, variant="exact", hours=1),
    Plan("出口路由器 edge-rt-01 系統升級", State.CLOSED, -10, ("office-network",), ("NET-0003",),
         ("neteng", "neteng"), category=Category.NETWORK_CONFIGURATION, variant="failed"),
    Plan("CRM 服務器 10 月安全補丁", State.CLOSED, -40, ("crm",), ("SRV-0006",), template="作業系統月度安全補丁"),
    # in the last days
    Plan("CRM 應用版本升級 5.2", State.ROLLED_BACK, -4, ("crm",), ("SRV-0006",)),
    Plan("文件服務器啟用 SMB 簽章", State.FAILED, -1.5, ("file-share",), ("SRV-0008",), answers=1,
         category=Category.NETWORK_CONFIGURATION, variant="exact"),
    Plan("人事薪資系統年度稅率表更新", State.COMPLETED, -6, ("hr-payroll",), ("SRV-0005",)),
    Plan("3F 多功能影印機韌體更新", State.COMPLETED, -1, ("desktop-support",), ("PRN-0301",),
         ("desktop", "desktop"), template="印表機韌體更新", variant="exact", hours=1),
    Plan("郵件反垃圾郵件規則庫更新", State.VERIFYING, -0.15, ("email",), ("SRV-0003",), variant="exact", hours=4),
    Plan("2F 會議室無線 AP 信道重新規劃", State.IMPLEMENTING, -0.05, ("office-network",), (),
         ("neteng", "neteng"), category=Category.NETWORK_CONFIGURATION, variant="exact", hours=3),
    # on the calendar: the two ERP changes share a window (a conflict acknowledged at scheduling)
    Plan("ERP 資料庫升級至 Oracle 19.25 RU", State.SCHEDULED, 7, ("erp",), ("DB-0001",), answers=2, hours=4),
    Plan("ERP 應用服務器記憶體擴充", State.SCHEDULED, 7, ("erp",), ("SRV-0001",), ("sysadmin", "security"),
         category=Category.HARDWARE_REPLACEMENT),
    Plan("核心交換機 core-sw-02 固件升級", State.SCHEDULED, 14, ("office-network",), ("NET-0002",),
         ("neteng", "neteng"), category=Category.NETWORK_CONFIGURATION),
    Plan("文件服務器 12 月安全補丁", State.SCHEDULED, 10, ("file-share",), ("SRV-0008",),
         template="作業系統月度安全補丁"),
    Plan("財務核算軟件升級至 V8.3", State.SCHEDULED, 20, ("finance-ledger",), ("APP-0001",), answers=1, hours=5),
    Plan("CRM 客戶報表新增業績欄位", State.APPROVED, 12, ("crm",), ("SRV-0006",)),
    Plan("更換 ERP 應用服務器風扇模組", State.APPROVED, 18, ("erp",), ("SRV-0002",), template="更換 RAID 故障硬碟"),
    Plan("緊急調整 ERP 應用連線池參數", State.APPROVED, 0.8, ("erp",), ("SRV-0001",), kind=ChangeType.EMERGENCY,
         variant="exact", hours=1),
    # awaiting decisions
    Plan("財務核算資料庫遷移至新存儲", State.AWAITING_APPROVAL, 21, ("finance-ledger", "erp"),
         ("DB-0001", "STO-0001"), answers=2, variant="votes", hours=6),
    Plan("郵件系統 TLS 憑證更換", State.AWAITING_APPROVAL, 13, ("email",), ("SRV-0003",)),
    Plan("OA 系統整合單點登入", State.AWAITING_APPROVAL, 16, ("oa",), ("SRV-0004",)),
    Plan("緊急封鎖 VPN 暴力破解來源 IP 段", State.AWAITING_APPROVAL, 0.4, ("vpn",), ("SEC-0001",),
         ("security", "security"), kind=ChangeType.EMERGENCY, category=Category.NETWORK_CONFIGURATION,
         variant="exact", hours=1),
    Plan("全公司 DNS 服務器遷移", State.ASSESSING, 24, ("office-network",), (), ("neteng", "neteng"),
         category=Category.NETWORK_CONFIGURATION, answers=1, variant="opinions"),
    Plan("人事薪資系統啟用雙因素認證", State.ASSESSING, 26, ("hr-payroll",), ("SRV-0005",), ("security", "sysadmin")),
    Plan("官網 CDN 服務商切換", State.SUBMITTED, 22, ("website",), ("SRV-0007",)),
    Plan("文件共享部門配額調整", State.SUBMITTED, 19, ("file-share",), ("SRV-0008",), category=Category.OTHER),
    Plan("機房 UPS 電池組更換", State.DRAFT, 27, ("erp", "email", "office-network"), (),
         category=Category.HARDWARE_REPLACEMENT),
    Plan("桌面防毒軟體升級至 12.1", State.DRAFT, 25, ("desktop-support",), (), ("desktop", "desktop")),
    Plan("財務報表匯出格式調整", State.DRAFT, 28, ("finance-ledger",), ("APP-0001",), ("finance", "sysadmin"),
         category=Category.OTHER),
    # off the road
    Plan("CRM 資料庫直接升級新大版本", State.REJECTED, -30, ("crm",), ("SRV-0006",)),
    Plan("工作日白天重啟核心交換機", State.REJECTED, -18, ("office-network",), ("NET-0001",), ("neteng", "neteng"),
         category=Category.NETWORK_CONFIGURATION),
    Plan("郵件歸檔系統擴容", State.CANCELLED, -20, ("email",), ("SRV-0003",)),
    Plan("VPN 分流策略調整", State.CANCELLED, 9, ("vpn",), ("NET-0004",), ("neteng", "neteng"),
         category=Category.NETWORK_CONFIGURATION),
]

# name, category, proposer, services, state
TEMPLATES = [
    ("作業系統月度安全補丁", Category.SOFTWARE_UPGRADE, "sysadmin", ("oa", "crm", "file-share"),
     TemplateState.APPROVED),
    ("更換 RAID 故障硬碟", Category.HARDWARE_REPLACEMENT, "sysadmin", ("erp",), TemplateState.APPROVED),
    ("印表機韌體更新", Category.OTHER, "desktop", ("desktop-support",), TemplateState.APPROVED),
    ("VPN 用戶授權擴充", Category.NETWORK_CONFIGURATION, "neteng", ("vpn",), TemplateState.PROPOSED),
    ("防毒病毒碼手動更新", Category.OTHER, "desktop", ("desktop-support",), TemplateState.RETIRED),
]


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at).replace(tzinfo=timezone.get_current_timezone())


def seed_windows(now: dt.datetime) -> list[FreezeWindow]:
    """The year-end closing freeze (every service), the finance month-start freeze, maintenance windows."""
    services = {s.code: s for s in Service.objects.all()}
    for code, name, rule, start, minutes in MAINTENANCE:
        MaintenanceWindow.objects.get_or_create(service=services[code], name=name, defaults={
            "recurrence": rule, "start_time": start, "duration_minutes": minutes})
    year = timezone.localtime(now - dt.timedelta(days=60)).year
    soon = timezone.localdate(now) + dt.timedelta(days=2)
    first = soon if soon.day == 1 else (soon.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    freezes = []
    midnight = dt.time(0)
    for name, start, end, reason, codes in [
            (f"{year} 年終結算封網", _local(dt.date(year, 12, 24), midnight), _local(dt.date(year + 1, 1, 4), midnight),
             "年終結算與新年度開帳期間，除緊急變更外一律封網。", ()),
            (f"{first:%Y-%m} 月初財務結帳封網", _local(first, midnight), _local(first + dt.timedelta(days=3), midnight),
             "財務部月初結帳，ERP 與財務核算系統封網。", ("erp", "finance-ledger"))]:
        freeze, _new = FreezeWindow.objects.get_or_create(name=name, defaults={
            "starts_at": start, "ends_at": end, "reason": reason,
            "created_by": User.objects.filter(username="supervisor").first()})
        if codes and _new:
            freeze.services.set([services[c] for c in codes])
        freezes.append(freeze)
    return freezes


class Director:
    """Plays each demo change through the services, with the demo organisation's people, on the clock."""

    def __init__(self, rng: random.Random, clock: Clock, now: dt.datetime) -> None:
        self.rng, self.clock, self.now = rng, clock, now
        self.users = {u.username: u for u in User.objects.all()}
        self.supervisor = self.users["supervisor"]
        self.services = {s.code: s for s in Service.objects.all()}
        self.cis = {c.asset_tag: c for c in ConfigurationItem.objects.all()}
        self.questions = list(RiskQuestion.objects.filter(is_active=True).prefetch_related("options"))
        self.templates: dict[str, ChangeTemplate] = {}
        self.played: list[Change] = []

    def at(self, moment: dt.datetime) -> None:
        self.clock.set(min(moment, self.now - dt.timedelta(minutes=1)))

    # templates and approval rules

    def seed_templates(self) -> None:
        for name, category, proposer, codes, state in TEMPLATES:
            template = ChangeTemplate.objects.filter(name=name).first()
            if template is None:
                self.at(self.now - dt.timedelta(days=self.rng.uniform(75, 90)))
                steps, rollback, contingency = PLANS[category]
                template = template_propose(user=self.users[proposer], data={
                    "name": name, "category": category, "description": f"標準變更：{name}。",
                    "purpose": "例行維護，按書面程序執行。", "impact_scope": "單一服務，維護時段內短暫影響或無影響。",
                    "risk_assessment": "低：已多次執行，有書面程序。",
                    "risk_mitigation": "變更前備份，按程序逐步確認。",
                    "steps": steps, "rollback_plan": rollback, "contingency_plan": contingency,
                    "services": [self.services[c] for c in codes]})
                if state != TemplateState.PROPOSED:
                    self.at(self.now - dt.timedelta(days=70))
                    template = perform_transition(template, "approve", user=self.supervisor,
                                                  comment="程序完整，核准為標準變更")
                if state == TemplateState.RETIRED:
                    self.at(self.now - dt.timedelta(days=30))
                    template = perform_transition(template, "retire", user=self.supervisor,
                                                  comment="已改由防毒主控台自動派送")
            self.templates[name] = template
        for rule in ApprovalRule.objects.filter(risk_level__in=["high", "major"]):
            if not rule.default_cab_members.exists():
                rule.default_cab_members.set([self.users[u] for u in CAB])

    # one change

    def window(self, plan: Plan) -> tuple[dt.datetime, dt.datetime]:
        """A Saturday-night window near `days` (inside the maintenance windows) clear of freezes; or exactly
        `days` from now."""
        length = dt.timedelta(hours=plan.hours)
        if plan.variant == "exact":
            start = self.now + dt.timedelta(days=plan.days)
            return start, start + length
        day = timezone.localdate(self.now + dt.timedelta(days=plan.days))
        step = 1 if plan.days > 0 else -1
        while day.weekday() != 5:
            day += dt.timedelta(days=step)
        service_ids = {self.services[c].pk for c in plan.services}
        first = _local(day, dt.time(22, 30))
        for weeks in (0, -1, 1, -2, 2, -3, 3):  # the nearest Saturday on the same side of now, clear of freezes
            start = first + dt.timedelta(days=7 * weeks)
            on_side = start > self.now + dt.timedelta(days=2) if plan.days > 0 else \
                start + length < self.now - dt.timedelta(days=1)
            if on_side and not freezes_over(start, start + length, service_ids):
                return start, start + length
        return first, first + length

    def answers(self, level: int) -> dict[str, int]:
        chosen = {}
        for question in self.questions:
            options = sorted(question.options.all(), key=lambda o: o.weight)
            chosen[str(question.pk)] = options[{0: 0, 1: 1, 2: -1}[level]].pk
        return chosen

    def create(self, plan: Plan, start: dt.datetime, end: dt.datetime) -> Change:
        requester, implementer = (self.users[u] for u in plan.people)
        data: dict[str, Any] = {
            "title": plan.title, "planned_start": start, "planned_end": end,
            "configuration_items": [self.cis[t] for t in plan.cis], "implementer": implementer,
            "services": [self.services[c] for c in plan.services]}
        if plan.template:
            return change_create(requester=requester, data={**data, "template": self.templates[plan.template]})
        steps, rollback, contingency = PLANS[plan.category]
        data.update({
            "change_type": plan.kind, "category": plan.category, "description": f"{plan.title}。",
            "purpose": "修補已知缺陷與安全漏洞，維持原廠支援。" if plan.kind != ChangeType.EMERGENCY
            else "正在發生的風險，須立即處理。",
            "impact_scope": "、".join(self.services[c].name for c in plan.services) + "於變更窗口內短暫中斷。",
            "risk_assessment": ["低：程序成熟，測試環境已驗證。", "中：首次在生產環境執行。",
                                "高：影響全公司核心業務，回退困難。"][plan.answers],
            "risk_mitigation": "變更前完整備份；原廠工程師在線支援；分步驗證。",
            "rollback_tested": plan.answers < 2, "risk_answers": self.answers(plan.answers),
            "rollback_plan": rollback, "contingency_plan": contingency})
        return change_create(requester=requester, data=data, steps=steps)

    def schedule(self, plan: Plan) -> tuple[dt.datetime, Plan, dt.datetime, dt.datetime]:
        """When the change is requested and its window."""
        start, end = self.window(plan)
        if plan.kind == ChangeType.NORMAL and freezes_over(start, end, {self.services[c].pk for c in plan.services}):
            plan = replace(plan, kind=ChangeType.EMERGENCY)  # a window fixed at now that a freeze covers
        lead = {ChangeType.EMERGENCY: dt.timedelta(hours=3), ChangeType.STANDARD: dt.timedelta(days=3)}.get(
            "standard" if plan.template else plan.kind, dt.timedelta(days=self.rng.uniform(6, 9)))
        return min(start - lead, self.now - dt.timedelta(hours=self.rng.uniform(3, 30))), plan, start, end

    def play_all(self, plans: list[Plan]) -> None:
        """Play the changes in the order they were requested, so that their numbers follow the dates."""
        for created, plan, start, end in sorted((self.schedule(p) for p in plans), key=lambda s: s[0]):
            self.play(plan, created, start, end)

    def play(self, plan: Plan, created: dt.datetime, start: dt.datetime, end: dt.datetime) -> Change:
        """Request the change well before its window, take it as far as its target state, each step at its
        time: decisions before the window, the work inside it, the report and close after it."""
        cutoff = min(start - dt.timedelta(minutes=30), self.now - dt.timedelta(minutes=20))
        self.cursor, self.tick = created, (cutoff - created) / 12
        self.at(created)
        change = self.create(plan, start, end)
        change = self.before_window(change, plan)
        if change.state == State.SCHEDULED and plan.target != State.SCHEDULED:
            change = self.inside_window(change, plan, start)
            change = self.after_window(change, plan, end)
        self.played.append(change)
        return change

    def step(self, change: Change, name: str, user: User, comment: str = "", **data: Any) -> Change:
        self.cursor += self.tick
        self.at(self.cursor)
        return change_transition(change, name, user=user, comment=comment, data=data)

    def before_window(self, change: Change, plan: Plan) -> Change:
        requester, implementer = (self.users[u] for u in plan.people)
        if plan.target == State.DRAFT:
            return change
        change = self.step(change, "submit", requester)
        if plan.target == State.SUBMITTED:
            return change
        if change.state == State.SUBMITTED:
            change = self.step(change, "start_assessment", self.supervisor, "開始評估")
            if plan.variant == "opinions":
                change_invite_opinions(change, user=self.supervisor, reviewers=[self.users["security"],
                                                                                 self.users["sysadmin"]])
                self.cursor += self.tick
                self.at(self.cursor)
                change_give_opinion(change, user=self.users["security"], recommendation=Recommendation.CONCERNS,
                                    opinion="建議遷移前後比對解析結果，並保留舊 DNS 兩週作為回退。")
            if plan.target == State.ASSESSING:
                return change
            if plan.target == State.CANCELLED:
                return self.step(change, "cancel", requester, "與年度網絡規劃合併處理，撤回本申請")
            override = {"risk_level": "medium", "override_reason": "僅調整單一策略，已在測試防火牆驗證，"
                        "影響範圍有限"} if plan.variant == "override" else {}
            change = self.step(change, "assess", self.supervisor, necessity="業務需求明確，屬必要變更。",
                               feasibility="技術方案可行，測試環境已驗證。", assessment="同意，按計畫時段實施。",
                               **override)
        return self.decide(change, plan, requester, implementer)

    def decide(self, change: Change, plan: Plan, requester: User, implementer: User) -> Change:
        joint = change.approval_mode == "joint"
        voters = [self.users[u] for u in CAB] if joint else [self.users["approver"]]
        if plan.target == State.AWAITING_APPROVAL and change.state == State.AWAITING_APPROVAL:
            if plan.variant == "votes":  # a joint review half cast: two approve, one has still to vote
                for voter in voters[:2]:
                    change = self.step(change, "approve", voter, "同意，請確認遷移期間的資料一致性檢查")
            return change
        if plan.target == State.REJECTED:
            if joint:
                change = self.step(change, "approve", voters[0], "同意")
            return self.step(change, "reject", voters[-1], "業務時段內風險過高，請改在維護時段並補充回退演練")
        if change.state == State.AWAITING_APPROVAL:
            for voter in voters:
                change = self.step(change, "approve", voter, "同意")
        if plan.target == State.APPROVED:
            return change
        return self.step(change, "schedule", implementer, "已確認實施計畫與人員", acknowledge_conflicts=True)

    def inside_window(self, change: Change, plan: Plan, start: dt.datetime) -> Change:
        implementer = self.users[plan.people[1]]
        self.cursor, self.tick = start + dt.timedelta(minutes=2), dt.timedelta(minutes=12)
        change = self.step(change, "start", implementer, "按計畫開始實施")
        steps = list(change.steps.order_by("position"))
        upto = {State.IMPLEMENTING: 2, State.FAILED: 2, State.ROLLED_BACK: 3}.get(plan.target, len(steps))
        if plan.variant == "failed":
            upto = 3
        for position, step in enumerate(steps[:upto], start=1):
            self.cursor += self.tick
            self.at(self.cursor)
            skipped = plan.category == Category.SOFTWARE_UPGRADE and position == len(steps) and upto == len(steps)
            change_record_step(change, user=implementer, position=step.position,
                               status=StepStatus.SKIPPED if skipped else StepStatus.DONE,
                               note="由驗證步驟一併涵蓋" if skipped else "")
        if plan.target == State.IMPLEMENTING:
            return change
        if plan.target in (State.FAILED, State.ROLLED_BACK) or plan.variant == "failed":
            change = self.step(change, "fail", implementer, what_happened="升級後設備未能正常載入新版本，"
                               "部分端口持續告警，超出預定時間。")
            if plan.target == State.FAILED:
                return change
            return self.step(change, "roll_back", implementer,
                             rollback_log="已載入變更前版本與配置，服務於窗口內恢復，監控無告警。")
        return self.step(change, "verify", implementer, function="主要功能逐項驗證正常",
                         performance="響應時間與變更前相當", data_integrity="抽查資料一致，校驗和相符")

    def after_window(self, change: Change, plan: Plan, end: dt.datetime) -> Change:
        if change.state in (State.IMPLEMENTING, State.FAILED) or plan.target == State.VERIFYING:
            return change
        self.cursor, self.tick = max(self.cursor, end), dt.timedelta(minutes=30)
        if change.state == State.VERIFYING:
            change = self.step(change, "complete", self.users[plan.people[1]],
                               report="變更依計畫完成，驗證通過，無遺留問題。")
        if plan.target != State.CLOSED:
            return change
        self.cursor, self.tick = self.cursor + dt.timedelta(hours=self.rng.uniform(6, 30)), dt.timedelta(minutes=20)
        if change.needs_review:
            self.at(self.cursor)
            change_record_review(change, user=self.supervisor, data={
                "held_on": timezone.localdate(self.cursor), "participants": "陳主管、實施工程師、值班人員",
                "summary": change.failure_description or "緊急變更依程序實施並完成驗證。",
                "lessons": "變更前應在測試環境完整演練，並提前準備回退版本。",
                "actions": "更新實施手冊；下次同類變更先於測試設備驗證（負責人：實施工程師）。"})
        return self.step(change, "close", self.supervisor, review="已審閱實施報告，同意關閉。")


def seed(*, stdout: TextIO) -> None:
    """Load the demo changes once: skipped when the database already holds changes."""
    if Change.objects.exists():
        stdout.write("Demo changes: skipped (changes already exist).")
        return
    began = time.monotonic()
    last_notification = last_notification_id()
    now = timezone.now()
    with stepped_clock() as clock, mock.patch("opscenter.core.outbox.enqueue_delivery"), transaction.atomic():
        freezes = seed_windows(now)
        director = Director(random.Random(20261201), clock, now)
        director.seed_templates()
        director.play_all(PLANS_BY_STATE)
    settle_notifications(last_notification, now)
    states = Change.objects.values("state").distinct().count()
    stdout.write(f"Demo changes: {len(director.played)} created in {states} states, {len(freezes)} freeze windows, "
                 f"{MaintenanceWindow.objects.count()} maintenance windows in {time.monotonic() - began:.1f} s.")
