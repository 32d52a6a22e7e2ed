"""Demo incidents: about 150 over the last 90 days in every state, each walked through the services on
a stepped clock so that its timeline, response and resolution times read as if they had happened."""

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any, TextIO
from unittest import mock

from django.db import transaction
from django.utils import timezone

from incidents.choices import CancelReason, Channel, HoldReason, State
from incidents.models import Category, Incident
from incidents.services import (
    incident_announce_assignment_overdue,
    incident_link,
    incident_record_review,
    incident_report,
    incident_transition,
)
from opscenter.core.demo import Clock, last_notification_id, settle_notifications, stepped_clock
from opscenter.core.models import ConfigurationItem, Department, Service, Team, User
from opscenter.core.services import comment_add

# category → the demo team that takes it (and the engineer of that team who works it)
CATEGORY_TEAMS = {"hardware": "system", "software": "system", "network": "network", "desktop": "desktop",
                  "security": "security"}
TEAM_ENGINEERS = {"system": "sysadmin", "network": "neteng", "desktop": "desktop", "security": "security"}


@dataclass(frozen=True)
class Fault:
    """A kind of fault the center sees, with what the engineers find and do about it."""

    title: str
    category: str
    service: str
    ci: str | None
    description: str
    scope: str
    cause: str
    measures: str
    resolution: str


FAULTS = [
    Fault("ERP 登入失敗", "software", "erp", "SRV-0001", "多名用戶登入 ERP 時出現「連線逾時」，重試後仍失敗。",
          "財務部、業務部 ERP 用戶", "應用服務器連線池耗盡，Session 未釋放", "重啟應用服務並調整連線池上限",
          "連線池參數已調整，登入恢復正常"),
    Fault("ERP 報表產生緩慢", "software", "erp", "DB-0001", "月底財務報表產生超過 20 分鐘仍未完成。",
          "財務部報表用戶", "資料庫統計資訊過期導致執行計畫不佳", "重新收集統計資訊並重建索引",
          "報表產生時間恢復至 2 分鐘內"),
    Fault("郵件收發延遲", "software", "email", "SRV-0003", "外部郵件延遲 30 分鐘以上才送達收件匣。",
          "全公司郵件用戶", "郵件佇列堆積，反垃圾郵件掃描服務異常", "重啟掃描服務並清理佇列",
          "佇列已清空，郵件即時收發"),
    Fault("OA 流程審批頁面空白", "software", "oa", "SRV-0004", "點擊待辦審批後頁面一片空白。",
          "行政部審批人員", "前端資源版本不一致，快取未更新", "清除 CDN 及服務器快取，重新部署前端資源",
          "審批頁面顯示正常"),
    Fault("薪資系統報表匯出錯誤", "software", "hr-payroll", "SRV-0005", "匯出薪資明細 Excel 時出現錯誤代碼 500。",
          "人力資源部", "匯出元件暫存目錄權限錯誤", "修正暫存目錄權限並重啟服務", "報表可正常匯出"),
    Fault("CRM 客戶資料查詢緩慢", "software", "crm", "SRV-0006", "查詢客戶資料需等待 1 分鐘以上。",
          "業務部全體", "查詢語句缺少索引", "新增索引並優化查詢", "查詢回應時間 < 2 秒"),
    Fault("官方網站首頁無法開啟", "software", "website", "SRV-0007", "外部用戶回報官網首頁顯示 502 錯誤。",
          "全部外部訪客", "Nginx 上游應用進程崩潰", "重啟應用進程並加入自動拉起", "官網恢復訪問"),
    Fault("財務核算系統月結作業中斷", "software", "finance-ledger", "APP-0001", "月結批次作業執行到第 3 步時中斷。",
          "財務部月結作業", "批次作業逾時設定過短", "延長逾時設定並重新執行批次", "月結作業完成"),
    Fault("存儲陣列硬碟故障", "hardware", "erp", "STO-0001", "存儲陣列告警：第 7 號硬碟狀態 Failed。",
          "ERP、郵件、文件共享（冗餘運行中）", "硬碟老化故障", "更換故障硬碟並完成陣列重建",
          "陣列狀態恢復 Optimal"),
    Fault("ERP 應用服務器風扇告警", "hardware", "erp", "SRV-0002", "監控告警：erp-app-02 風扇轉速異常。",
          "ERP 服務（另一台服務器承載中）", "風扇模組故障", "更換風扇模組", "溫度與轉速恢復正常"),
    Fault("文件服務器電源模組故障", "hardware", "file-share", "SRV-0008", "fs-01 冗餘電源其中一路告警。",
          "文件共享服務（單路供電運行中）", "電源模組損壞", "更換電源模組", "雙路供電恢復"),
    Fault("VPN 連線中斷", "network", "vpn", "NET-0004", "出差同事 VPN 連線每隔幾分鐘就斷開。",
          "遠端辦公同事", "VPN 網關會話數達上限", "擴充授權並調整閒置逾時", "VPN 連線穩定"),
    Fault("核心交換機端口故障", "network", "office-network", "NET-0001", "core-sw-01 第 24 埠反覆 up/down。",
          "3F、4F 辦公網絡", "光模組故障", "更換光模組並切換備用鏈路", "鏈路穩定，無丟包"),
    Fault("出口路由器丟包", "network", "office-network", "NET-0003", "訪問外網時延高、丟包率約 10%。",
          "全公司外網訪問", "運營商線路品質不佳", "切換至備援線路並報修運營商", "外網訪問恢復正常"),
    Fault("2F 會議室無線網絡不穩定", "network", "office-network", None, "2F 大會議室開會時無線網絡頻繁斷線。",
          "2F 會議室用戶", "AP 信道干擾", "調整 AP 信道與功率", "無線網絡穩定"),
    Fault("3F 印表機卡紙", "desktop", "desktop-support", "PRN-0301", "3F 多功能影印機卡紙，面板顯示錯誤 J-0021。",
          "3F 財務部列印", "搓紙輪磨損", "清理卡紙並更換搓紙輪", "影印機恢復正常"),
    Fault("財務部電腦無法開機", "desktop", "desktop-support", "PC-0101", "PC-0101 按電源後無反應。",
          "財務部一名同事", "電源供應器損壞", "更換電源供應器", "電腦正常開機"),
    Fault("Outlook 無法開啟", "desktop", "desktop-support", "PC-0102", "開啟 Outlook 時停在「正在載入設定檔」。",
          "財務部一名同事", "本機 OST 檔損壞", "重建 Outlook 設定檔", "Outlook 正常使用"),
    Fault("螢幕閃爍", "desktop", "desktop-support", "PC-0101", "螢幕每隔數秒閃爍一次。", "財務部一名同事",
          "顯示線接觸不良", "更換顯示線", "螢幕顯示正常"),
    Fault("疑似釣魚郵件", "security", "email", None, "多名同事收到冒充 IT 部門要求重設密碼的郵件。",
          "全公司郵件用戶", "外部釣魚攻擊", "封鎖寄件網域、撤回郵件並發布警示", "已封鎖並完成全員提醒"),
    Fault("防火牆偵測異常對外連線", "security", "office-network", "SEC-0001", "防火牆告警：內部主機連線境外可疑 IP。",
          "一台辦公電腦", "電腦感染惡意程式", "隔離主機、清除惡意程式並重設帳號密碼", "主機已清除並恢復上線"),
    Fault("VPN 帳號多次登入失敗", "security", "vpn", "SEC-0001", "同一 VPN 帳號 10 分鐘內登入失敗 50 次。",
          "一個 VPN 帳號", "暴力破解嘗試", "鎖定帳號、封鎖來源 IP 並啟用雙因素認證", "帳號已加固"),
]

CALLERS = ["陳小姐", "林先生", "王經理", "張主任", "黃小姐", "吳先生", "劉專員", "蔡組長"]
# impact, urgency for each priority (the default matrix)
PRIORITY_CELLS = {"P1": [(1, 1)], "P2": [(1, 2), (2, 1)], "P3": [(2, 2), (1, 3), (3, 1)],
                  "P4": [(2, 3), (3, 2), (3, 3)]}
HOLD_NOTES = {"caller": "用戶出差，待其返回後確認", "vendor": "已報修原廠，等待工程師到場",
              "parts": "備件訂購中，預計三天到貨", "change": "需走變更流程，待變更窗口"}
MAIN_ROAD = ["classify", "assign", "start_diagnosis", "start_handling", "restore", "confirm_recovery",
             "submit_report", "approve_report"]
# How many incidents end in each state, and how many days ago they were reported (oldest, newest).
PLAN = [
    (State.CLOSED, 78, (90, 4)),
    (State.CANCELLED, 7, (85, 1)),
    (State.UNDER_REVIEW, 8, (7, 1)),
    (State.RESOLVED, 12, (5, 0.4)),
    (State.ON_HOLD, 6, (14, 1)),
    (State.RECOVERING, 5, (2, 0.2)),
    (State.HANDLING, 8, (3, 0.2)),
    (State.DIAGNOSING, 6, (1.5, 0.1)),
    (State.ASSIGNED, 6, (1, 0.1)),
    (State.CLASSIFIED, 6, (0.6, 0.05)),
    (State.REPORTED, 5, (0.3, 0.02)),
]


# --- Stories: one incident each, from the report to the state it ends in ---

@dataclass
class Step:
    name: str
    user: User
    data: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    minutes: float = 10  # after the previous step


@dataclass
class Story:
    fault: Fault
    target: str
    start: dt.datetime
    priority: str
    steps: list[Step] = field(default_factory=list)
    major: bool = False


class Director:
    """Plays demo stories through the services with the demo organisation's people."""

    def __init__(self, rng: random.Random, clock: Clock, now: dt.datetime) -> None:
        self.rng, self.clock, self.now = rng, clock, now
        self.users = {u.username: u for u in User.objects.filter(username__in=[
            "duty", "supervisor", "finance", *TEAM_ENGINEERS.values()])}
        self.duty, self.supervisor = self.users["duty"], self.users["supervisor"]
        self.teams = {t.code: t for t in Team.objects.filter(code__in=TEAM_ENGINEERS)}
        self.categories = {c.code: c for c in Category.objects.all()}
        self.services = {s.code: s for s in Service.objects.all()}
        self.cis = {c.asset_tag: c for c in ConfigurationItem.objects.all()}
        self.departments = list(Department.objects.order_by("code"))
        self.played: list[Incident] = []

    # what happens to an incident

    def engineer(self, fault: Fault) -> User:
        return self.users[TEAM_ENGINEERS[CATEGORY_TEAMS[fault.category]]]

    def minutes(self, low: float, high: float, priority: str) -> float:
        urgent = priority in ("P1", "P2")
        return self.rng.uniform(low, high) * (0.4 if urgent else 1.0)

    def road(self, story: Story, upto: str) -> list[Step]:
        """The main-road steps from classification up to and including `upto`."""
        fault, engineer, p = story.fault, self.engineer(story.fault), story.priority
        impact, urgency = self.rng.choice(PRIORITY_CELLS[p])
        team = self.teams[CATEGORY_TEAMS[fault.category]]
        steps = {
            "classify": Step("classify", self.duty, {"category": self.categories[fault.category], "impact": impact,
                                                     "urgency": urgency}, minutes=self.minutes(3, 25, p)),
            "assign": Step("assign", self.duty, {"team": team, "assignee": engineer}, minutes=self.minutes(3, 40, p)),
            "start_diagnosis": Step("start_diagnosis", engineer, minutes=self.minutes(5, 60, p)),
            "start_handling": Step("start_handling", engineer, {"cause": fault.cause, "scope": fault.scope},
                                   minutes=self.minutes(15, 120, p)),
            "restore": Step("restore", engineer, {"measures": fault.measures}, minutes=self.minutes(20, 240, p)),
            "confirm_recovery": Step("confirm_recovery", engineer, self.tests(fault, passed=True),
                                     minutes=self.minutes(10, 60, p)),
            "submit_report": Step("submit_report", engineer, {
                "cause": fault.cause, "process": f"{fault.description} 經診斷：{fault.cause}。",
                "measures": fault.measures, "result": fault.resolution}, minutes=self.rng.uniform(60, 24 * 60)),
            "approve_report": Step("approve_report", self.supervisor, minutes=self.rng.uniform(60, 36 * 60)),
        }
        return [steps[name] for name in MAIN_ROAD[:MAIN_ROAD.index(upto) + 1]]

    def tests(self, fault: Fault, *, passed: bool) -> dict[str, Any]:
        return {"function_ok": True, "function_note": "主要功能逐項驗證正常",
                "performance_ok": passed, "performance_note": "響應時間正常" if passed else "高峰時段仍偏慢",
                "data_ok": True, "data_note": "抽查資料一致", "resolution": fault.resolution if passed else ""}

    def story(self, target: str, days: tuple[float, float], index: int) -> Story:
        fault = self.rng.choice(FAULTS)
        priority = self.rng.choices(["P1", "P2", "P3", "P4"], weights=[2, 10, 48, 40])[0]
        start = self.when(days)
        story = Story(fault, target, start, priority)
        reached = {State.CLOSED: "approve_report", State.UNDER_REVIEW: "submit_report",
                   State.RESOLVED: "confirm_recovery", State.RECOVERING: "restore", State.HANDLING: "start_handling",
                   State.DIAGNOSING: "start_diagnosis", State.ASSIGNED: "assign", State.CLASSIFIED: "classify"}
        if target in reached:
            story.steps = self.road(story, reached[target])
        elif target == State.ON_HOLD:
            story.steps = self.road(story, self.rng.choice(["start_diagnosis", "start_handling"]))
            reason = self.rng.choice(HoldReason.values)
            story.steps.append(Step("hold", self.engineer(fault), {"reason": reason}, comment=HOLD_NOTES[reason],
                                    minutes=self.rng.uniform(10, 90)))
        elif target == State.CANCELLED:
            story.steps = self.road(story, "classify") if index % 2 else []
            story.steps.append(Step("cancel", self.duty, {"reason": CancelReason.FALSE_ALARM},
                                    comment="監控誤報，經確認服務正常", minutes=self.rng.uniform(5, 30)))
        if target == State.CLOSED:
            self.vary(story, index)
        if self.rng.random() < 0.3 and len(story.steps) > 3:
            story.steps[2].comment = "已電話聯繫報修人確認現象"
        return story

    def vary(self, story: Story, index: int) -> None:
        """Some closed incidents took a detour: a hold, a failed recovery test, a return, a reopening."""
        names = [s.name for s in story.steps]
        engineer = self.engineer(story.fault)
        detour = index % 8
        if detour == 1:  # waited for parts during diagnosis
            at = names.index("start_diagnosis") + 1
            story.steps[at:at] = [
                Step("hold", engineer, {"reason": HoldReason.PARTS}, comment="等待備件", minutes=20),
                Step("resume", engineer, comment="備件已到", minutes=self.rng.uniform(600, 2880))]
        elif detour == 3:  # a recovery test failed once
            at = names.index("confirm_recovery")
            story.steps[at:at] = [
                Step("confirm_recovery", engineer, self.tests(story.fault, passed=False), minutes=30),
                Step("restore", engineer, {"measures": story.fault.measures + "；再次調整"}, minutes=90)]
        elif detour == 5:  # the supervisor returned the report
            at = names.index("approve_report")
            story.steps[at:at] = [
                Step("return_report", self.supervisor, comment="請補充根本原因分析及預防措施",
                     minutes=self.rng.uniform(60, 600)),
                Step("submit_report", engineer, story.steps[names.index("submit_report")].data,
                     minutes=self.rng.uniform(60, 600))]
        elif detour == 7:  # the fault came back after resolution
            at = names.index("submit_report")
            story.steps[at:at] = [
                Step("reopen", self.users["duty"], comment="用戶回報問題再次出現", minutes=self.rng.uniform(120, 1440)),
                Step("restore", engineer, {"measures": story.fault.measures + "；徹底處理"}, minutes=120),
                Step("confirm_recovery", engineer, self.tests(story.fault, passed=True), minutes=30)]

    def when(self, days: tuple[float, float]) -> dt.datetime:
        """A reporting time `days` ago, mostly in office hours (the center's time zone)."""
        oldest, newest = days
        moment = self.now - dt.timedelta(days=self.rng.uniform(newest, oldest))
        local = timezone.localtime(moment)
        if oldest > 1 and self.rng.random() < 0.85 and not 8 <= local.hour < 19:
            local = local.replace(hour=self.rng.randint(8, 18))
        return min(local, self.now - dt.timedelta(days=newest))

    # playing

    def report(self, story: Story) -> Incident:
        fault = story.fault
        self.clock.set(story.start)
        data = {"title": fault.title, "description": fault.description, "impact_scope": fault.scope,
                "occurred_at": story.start - dt.timedelta(minutes=self.rng.randint(2, 40)),
                "service": self.services[fault.service], "configuration_item": self.cis.get(fault.ci or "")}
        if fault.category in ("software", "desktop") and self.rng.random() < 0.25:
            # A department user reports for themselves and names no configuration item (they may not see them).
            return incident_report(recorder=self.users["finance"], data={**data, "configuration_item": None})
        department = self.rng.choice(self.departments)
        if fault.category in ("hardware", "network") and self.rng.random() < 0.5:
            return incident_report(recorder=self.duty, data={
                **data, "channel": Channel.MONITORING, "caller_name": "監控系統 (Zabbix)"})
        return incident_report(recorder=self.duty, data={
            **data, "channel": self.rng.choice([Channel.PHONE, Channel.PHONE, Channel.EMAIL, Channel.IM]),
            "caller_name": f"{department.name} {self.rng.choice(CALLERS)}", "department": department,
            "caller_contact": f"分機 {self.rng.randint(2000, 3999)}"})

    def play(self, story: Story) -> Incident:
        """Report the incident at its time and take each step at its time, ending before now."""
        total = sum(step.minutes for step in story.steps)
        latest = self.now - dt.timedelta(minutes=total + 5)
        story.start = min(story.start, latest)
        incident = self.report(story)
        moment = story.start
        for step in story.steps:
            moment += dt.timedelta(minutes=step.minutes)
            self.clock.set(moment)
            incident = incident_transition(incident, step.name, user=step.user, comment=step.comment,
                                           data=step.data)
            if story.major and step.name == "start_handling":
                incident = incident_transition(incident, "declare_major", user=self.supervisor,
                                               comment="影響核心業務，啟動重大故障處理程序")
            if story.major and step.name == "submit_report":
                self.review(incident, moment)
            if step.comment and step.name == "start_diagnosis":
                comment_add(incident, user=step.user, body=step.comment)
        self.played.append(incident)
        return incident

    def review(self, incident: Incident, moment: dt.datetime) -> None:
        self.clock.set(moment + dt.timedelta(minutes=5))
        incident_record_review(incident, user=self.supervisor, data={
            "held_on": timezone.localdate(moment), "attendees": "陳主管、林系統、王網絡、李值班",
            "causes": incident.diagnosis_cause, "lessons": "監控告警閾值偏高，未能提前發現",
            "preventive_measures": "調整告警閾值；關鍵設備備件常備；每季演練切換",
            "owners": "林系統（告警）、王網絡（備件與演練）"})

    def major_outage(self) -> Incident:
        """A P1 ERP outage declared major, reviewed and closed."""
        fault = FAULTS[0]
        story = Story(fault, State.CLOSED, self.when((40, 35)), "P1", major=True)
        story.steps = self.road(story, "approve_report")
        return self.play(story)

    def switch_failure(self) -> Incident:
        """A core-switch port failure (major, P1) with three incidents it caused, resolved together;
        its report awaits the supervisor."""
        parent_fault = next(f for f in FAULTS if f.ci == "NET-0001")
        start = self.when((12, 11))
        parent_story = Story(parent_fault, State.UNDER_REVIEW, start, "P1", major=True)
        parent_story.steps = self.road(parent_story, "restore")
        parent = self.play(parent_story)
        children = []
        for offset, title, service in [(4, "3F 財務部無法上網", "office-network"), (7, "ERP 連線逾時", "erp"),
                                       (9, "4F 郵件無法同步", "email")]:
            fault = Fault(title, "network", service, None, f"{title}，疑與網絡故障相關。", "3F、4F 用戶",
                          parent_fault.cause, parent_fault.measures, parent_fault.resolution)
            child = Story(fault, State.ASSIGNED, start + dt.timedelta(minutes=offset), "P3")
            child.steps = self.road(child, "assign")
            child.start = start + dt.timedelta(minutes=offset)
            children.append(self.replay(child, moment=start + dt.timedelta(minutes=offset)))
        moment = max(i.updated_at for i in [parent, *children]) + dt.timedelta(minutes=10)
        for child in children:
            moment += dt.timedelta(minutes=2)
            self.clock.set(moment)
            incident_link(child, user=self.duty, parent=parent)
        engineer = self.engineer(parent_fault)
        for name, data, minutes in [
                ("confirm_recovery", {**self.tests(parent_fault, passed=True), "resolve_children": True}, 30),
                ("submit_report", {"cause": parent_fault.cause, "process": "定位故障埠、更換光模組、切換備用鏈路",
                                   "measures": parent_fault.measures, "result": parent_fault.resolution}, 180)]:
            moment += dt.timedelta(minutes=minutes)
            self.clock.set(moment)
            parent = incident_transition(parent, name, user=engineer, data=data)
        self.review(parent, moment)
        return parent

    def grown_outage(self) -> Incident:
        """A mail delay worked as a P3 grows into an outage of the whole centre: the duty officer reclassifies it
        P1 with the reason, which pages the team as a new P1 does and brings its clocks forward."""
        fault = next(f for f in FAULTS if f.title == "郵件收發延遲")
        story = Story(fault, State.HANDLING, self.now - dt.timedelta(hours=3), "P3")
        story.steps = [*self.road(story, "start_handling"),
                       Step("reclassify", self.duty, {"impact": 1, "urgency": 1},
                            comment="延遲擴大為全中心郵件中斷，各部門均無法收發郵件", minutes=20)]
        return self.play(story)

    def replay(self, story: Story, *, moment: dt.datetime) -> Incident:
        """Play a story that must start exactly at `moment` (no pulling back from now)."""
        story.start = moment
        incident = self.report(story)
        for step in story.steps:
            moment += dt.timedelta(minutes=min(step.minutes, 15))
            self.clock.set(moment)
            incident = incident_transition(incident, step.name, user=step.user, comment=step.comment, data=step.data)
        self.played.append(incident)
        return incident

    def duplicate(self) -> Incident:
        """Two callers report the same fault; the second is cancelled as a duplicate of the first."""
        fault = next(f for f in FAULTS if f.title == "郵件收發延遲")
        first = Story(fault, State.CLOSED, self.when((20, 19)), "P3")
        first.steps = self.road(first, "approve_report")
        original = self.play(first)
        second = Story(fault, State.CANCELLED, original.created_at + dt.timedelta(minutes=12), "P3")
        second.steps = [Step("cancel", self.duty, {"reason": CancelReason.DUPLICATE, "duplicate_of": original},
                             comment="與先前報修為同一故障", minutes=8)]
        return self.replay(second, moment=original.created_at + dt.timedelta(minutes=12))


def seed(*, stdout: TextIO) -> None:
    """Load the demo incidents once: skipped when the database already holds incidents.

    Notifications written while seeding are not handed to the broker: they are marked delivered
    (in-app ones older than two days also read) so that seeding neither mails anyone nor floods a queue.
    """
    for code, team in CATEGORY_TEAMS.items():
        Category.objects.filter(code=code, default_team__isnull=True).update(
            default_team=Team.objects.filter(code=team).first())
    if Incident.objects.exists():
        stdout.write("Demo incidents: skipped (incidents already exist).")
        return
    began = time.monotonic()
    last_notification = last_notification_id()
    now = timezone.now()
    with stepped_clock() as clock, mock.patch("opscenter.core.outbox.enqueue_delivery"), transaction.atomic():
        director = Director(random.Random(20260101), clock, now)
        director.major_outage()
        director.switch_failure()
        director.duplicate()
        for target, count, days in PLAN:
            for index in range(count):
                director.play(director.story(target, days, index))
        director.grown_outage()  # last: the stories above keep their random draws
        clock.set(now)
        incident_announce_assignment_overdue(now=now)  # what the sweep would already have announced
    settle_notifications(last_notification, now)
    states = Incident.objects.values("state").distinct().count()
    stdout.write(f"Demo incidents: {len(director.played)} created in {states} states "
                 f"in {time.monotonic() - began:.1f} s.")
