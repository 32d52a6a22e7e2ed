"""Demo problems: recurring faults of the demo incidents taken up as problems, in every state of the process — one
identified from a monitoring alarm, one from user feedback, others from incidents; investigated, analysed with a
fishbone and a 5-whys chain, solved by action items (one overdue), a change raised, verified, reported and closed —
each walked through the services on a stepped clock so that its timeline reads as if it had happened."""

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TextIO

from django.utils import timezone

from incidents.models import Incident
from opscenter.core.demo import Clock, demo_writes
from opscenter.core.models import ConfigurationItem, Service, User
from opscenter.core.services import comment_add
from problems.choices import Source, State
from problems.known_errors import known_error_create, known_error_transition
from problems.models import KnownError, Problem, ProblemPolicy
from problems.services import (
    action_add,
    action_transition,
    problem_create,
    problem_raise_change,
    problem_transition,
    problem_update,
)

ROAD = [State.IDENTIFIED, State.INVESTIGATING, State.ANALYZING, State.SOLVING, State.VERIFYING, State.UNDER_REVIEW,
        State.CLOSED]


@dataclass
class Action:
    measure: str
    steps: str
    owner: str
    due_in_days: int  # from the day the plan is made
    result: str = ""
    left: str = ""  # "": done once solving; "open" or "in_progress": still being worked


@dataclass
class Story:
    """One problem, from its identification to the state it ends in."""

    target: str
    title: str
    description: str
    days_ago: float  # identified then
    owner: str
    source: str = Source.INCIDENTS
    source_reference: str = ""
    incident_title: str = ""  # the demo incidents it is identified from
    service: str = ""
    ci: str = ""
    investigation: dict[str, str] = field(default_factory=dict)
    root_cause: str = ""
    fishbone: dict[str, list[str]] = field(default_factory=dict)
    five_whys: list[tuple[str, str]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    raise_change: bool = False
    report: dict[str, str] = field(default_factory=dict)


STORIES = [
    Story(State.CLOSED, "ERP 登入失敗反覆發生", "近兩個月多次發生 ERP 登入「連線逾時」，每次重啟應用服務後恢復。",
          60, "sysadmin", incident_title="ERP 登入失敗", service="erp", ci="SRV-0001",
          investigation={"frequency": "平均每週一次，多在週一上午 09:00–09:30",
                         "scope": "財務部、業務部 ERP 用戶約 120 人",
                         "impact": "每次約 20 分鐘無法登入，影響訂單錄入與月結作業",
                         "data_collected": "應用服務器連線池監控、Session 數量、應用日誌（已附檔）"},
          root_cause="應用連線池上限過低且 Session 逾時設定過長，週一批次作業與登入高峰重疊時連線池耗盡。",
          fishbone={"technology": ["連線池上限 50，不足以應付高峰", "Session 逾時 120 分鐘，閒置連線未釋放"],
                    "process": ["週一 09:00 排程批次作業與上班登入高峰重疊"],
                    "measurement": ["未監控連線池使用率，無飽和告警"], "people": ["值班人員僅以重啟處理，未記錄根因"]},
          five_whys=[("為何用戶無法登入？", "應用服務器無可用資料庫連線"),
                     ("為何無可用連線？", "連線池 50 條全部被佔用"),
                     ("為何全部被佔用？", "週一批次作業與登入高峰同時使用同一連線池"),
                     ("為何未及早發現？", "連線池使用率沒有監控與告警")],
          actions=[Action("連線池上限調整為 150 並縮短 Session 逾時", "測試環境驗證；變更窗口調整參數；觀察一週",
                          "sysadmin", 7, "參數已於變更窗口調整，高峰連線使用率 60%"),
                   Action("批次作業改至 06:00 執行", "與財務部確認；調整排程", "sysadmin", 10, "批次已改期"),
                   Action("新增連線池使用率告警（> 80%）", "Zabbix 新增監控項與觸發器", "neteng", 10, "告警已上線")],
          raise_change=True,
          report={"report_cause": "連線池上限過低，週一批次作業與登入高峰重疊導致連線池耗盡。",
                  "report_solution": "連線池擴充至 150、Session 逾時縮短為 30 分鐘、批次作業改至 06:00、"
                                     "新增使用率告警。",
                  "report_result": "觀察期 14 天內未再發生登入逾時，高峰使用率穩定於 60% 以下。",
                  "report_lessons": "重複性故障應及時轉入問題管理；關鍵資源須有容量監控與告警。"}),
    Story(State.UNDER_REVIEW, "郵件收發延遲反覆出現",
          "外部郵件延遲送達的情況一個月內出現三次，均於反垃圾郵件掃描服務異常時。",
          40, "sysadmin", incident_title="郵件收發延遲", service="email", ci="SRV-0003",
          investigation={"frequency": "一個月三次", "scope": "全公司郵件用戶", "impact": "外部郵件延遲 30 分鐘以上",
                         "data_collected": "郵件佇列長度、掃描服務日誌"},
          root_cause="反垃圾郵件掃描服務記憶體洩漏，運行約十天後停止回應。",
          fishbone={"suppliers": ["掃描引擎版本存在已知記憶體洩漏"], "technology": ["服務無健康檢查與自動重啟"]},
          five_whys=[("為何郵件延遲？", "郵件佇列堆積"), ("為何佇列堆積？", "掃描服務停止回應"),
                     ("為何停止回應？", "記憶體洩漏耗盡記憶體")],
          actions=[Action("升級掃描引擎至修正版本", "取得廠商修正版；測試；升級", "sysadmin", 5, "已升級至 8.2.1"),
                   Action("加入健康檢查與自動重啟", "設定服務監控腳本", "sysadmin", 7, "已設定")],
          report={"report_cause": "掃描引擎記憶體洩漏。", "report_solution": "升級引擎並加入健康檢查。",
                  "report_result": "觀察期內佇列正常，無延遲。", "report_lessons": "供應商版本公告須定期追蹤。"}),
    Story(State.VERIFYING, "核心交換機端口反覆 up/down",
          "core-sw-01 第 24 埠兩週內三次反覆 up/down，造成 3F、4F 斷網。",
          21, "neteng", incident_title="核心交換機端口故障", service="office-network", ci="NET-0001",
          investigation={"frequency": "兩週三次", "scope": "3F、4F 辦公網絡", "impact": "每次斷網 5–15 分鐘",
                         "data_collected": "交換機日誌、光功率讀數"},
          root_cause="光模組老化，收光功率接近下限，溫度升高時鏈路中斷。",
          fishbone={"technology": ["光模組使用逾五年", "無備用鏈路自動切換"],
                    "environment": ["機房下午溫度偏高"], "measurement": ["未監控光功率"]},
          five_whys=[("為何端口 up/down？", "收光功率低於門檻"), ("為何收光功率低？", "光模組老化"),
                     ("為何未及早更換？", "沒有光功率監控")],
          actions=[Action("更換光模組並啟用備用鏈路", "採購；變更窗口更換", "neteng", 3, "已更換並驗證"),
                   Action("新增光功率監控告警", "監控平台新增項目", "neteng", 5, "已上線")],
          raise_change=True),
    Story(State.SOLVING, "VPN 連線頻繁中斷", "出差同事回報 VPN 每隔數分鐘中斷，已有四張事件單。",
          12, "neteng", incident_title="VPN 連線中斷", service="vpn", ci="NET-0004",
          investigation={"frequency": "工作日每天多次", "scope": "遠端辦公與出差同事約 60 人",
                         "impact": "遠端作業中斷，需反覆重新連線", "data_collected": "VPN 網關會話數、授權使用量"},
          root_cause="VPN 網關授權會話數上限 100，高峰時超過上限後舊會話被強制中斷。",
          fishbone={"technology": ["授權上限 100 會話"], "process": ["閒置會話逾時設定 8 小時"],
                    "suppliers": ["授權擴充需原廠報價"]},
          five_whys=[("為何連線中斷？", "會話被網關強制結束"), ("為何被強制結束？", "會話數達授權上限"),
                     ("為何達上限？", "閒置會話長時間佔用")],
          actions=[Action("閒置逾時縮短為 30 分鐘", "調整網關設定", "neteng", 2, "已調整"),
                   Action("擴充 VPN 授權至 200 會話", "原廠報價；採購；安裝授權", "neteng", -3, left="in_progress"),
                   Action("遠端辦公用戶 VPN 使用說明更新", "更新知識庫文章", "desktop", 6, left="open")],
          raise_change=True),
    Story(State.ANALYZING, "3F 多功能影印機經常卡紙", "3F 影印機一個月內報修卡紙五次，錯誤碼均為 J-0021。",
          8, "desktop", incident_title="3F 印表機卡紙", service="desktop-support", ci="PRN-0301",
          investigation={"frequency": "每週一至兩次", "scope": "3F 財務部列印", "impact": "報表列印延誤",
                         "data_collected": "影印機錯誤日誌、耗材更換紀錄"},
          root_cause="搓紙輪磨損且使用了不合規格的紙張。",
          fishbone={"technology": ["搓紙輪已使用 30 萬張"], "suppliers": ["紙張供應商更換，紙張較薄"],
                    "people": ["用戶未依指示放紙"]},
          actions=[Action("更換搓紙輪並改回原規格紙張", "叫修原廠；通知行政部採購", "desktop", 5)]),
    Story(State.INVESTIGATING, "CRM 客戶資料查詢緩慢", "業務部多次反映 CRM 查詢客戶資料需等待一分鐘以上。",
          5, "sysadmin", incident_title="CRM 客戶資料查詢緩慢", service="crm", ci="SRV-0006",
          investigation={"frequency": "每日上午高峰", "scope": "業務部全體"}),
    Story(State.IDENTIFIED, "存儲陣列硬碟短期內連續故障",
          "監控告警：san-01 兩個月內第三顆硬碟故障，需確認是否為同批次硬碟問題。",
          2, "sysadmin", source=Source.MONITORING, source_reference="Zabbix 告警 #48213：san-01 Disk 7 Failed",
          service="file-share", ci="STO-0001"),
    Story(State.IDENTIFIED, "OA 審批頁面間歇空白", "行政部用戶回饋：審批頁面不定時顯示空白，清除快取後恢復。",
          1, "", source=Source.FEEDBACK, source_reference="行政部 林專員，滿意度調查意見", service="oa"),
    Story(State.CANCELLED, "ERP 報表偶爾緩慢", "月底報表產生緩慢，疑與資料庫統計資訊有關。", 30, "sysadmin",
          incident_title="ERP 報表產生緩慢", service="erp"),
]


class Director:
    """Plays the stories through the services with the demo organisation's people, each step at its time."""

    def __init__(self, clock: Clock, now: dt.datetime) -> None:
        self.clock, self.now = clock, now
        self.users = {u.username: u for u in User.objects.filter(
            username__in=["problem", "supervisor", "sysadmin", "neteng", "desktop"])}
        self.manager = self.users["problem"]
        self.services = {s.code: s for s in Service.objects.all()}
        self.cis = {c.asset_tag: c for c in ConfigurationItem.objects.all()}
        self.observation = dt.timedelta(days=ProblemPolicy.current().observation_days)
        self.played: list[Problem] = []

    def at(self, moment: dt.datetime) -> None:
        self.clock.set(min(moment, self.now - dt.timedelta(minutes=5)))

    def incidents(self, story: Story) -> list[Incident]:
        if not story.incident_title:
            return []
        return list(Incident.objects.filter(title=story.incident_title).order_by("created_at")[:4])

    def play(self, story: Story) -> Problem:
        start = self.now - dt.timedelta(days=story.days_ago)
        self.at(start)
        owner = self.users.get(story.owner)
        incidents = self.incidents(story)
        source = story.source if incidents or story.source != Source.INCIDENTS else Source.PROACTIVE
        problem = problem_create(user=self.manager, incidents=incidents, data={
            "title": story.title, "description": story.description, "source": source,
            "source_reference": story.source_reference, "service": self.services.get(story.service),
            "configuration_item": self.cis.get(story.ci), "owner": owner})
        if story.target == State.CANCELLED:
            self.at(start + dt.timedelta(hours=5))
            problem = problem_transition(problem, "cancel", user=self.manager, comment="與另一問題重複，併入處理。")
            self.played.append(problem)
            return problem
        target = ROAD.index(story.target)
        moment = start
        days = story.days_ago

        def step(fraction: float) -> User:
            nonlocal moment
            moment = start + dt.timedelta(days=days * fraction)
            self.at(moment)
            return owner

        if target >= 1:
            problem = problem_transition(problem, "investigate", user=step(0.05))
            problem = problem_update(problem, user=step(0.1), changes=story.investigation)
            comment_add(problem, user=owner, body="已收集近兩個月相關事件與監控數據。")
        if target >= 2:
            problem = problem_transition(problem, "analyze", user=step(0.15))
            problem = problem_update(problem, user=step(0.2), changes={
                "root_cause": story.root_cause, "fishbone": story.fishbone,
                "five_whys": [{"why": w, "because": b} for w, b in story.five_whys]})
            plan_day = timezone.localdate(moment)
            actions = [(spec, action_add(problem, user=self.manager if n else owner, data={
                "measure": spec.measure, "steps": spec.steps, "owner": self.users[spec.owner],
                "due_date": plan_day + dt.timedelta(days=spec.due_in_days)})) for n, spec in enumerate(story.actions)]
        if target >= 3:
            problem = problem_transition(problem, "solve", user=step(0.25))
            if story.raise_change:
                step(0.27)
                problem_raise_change(problem, user=owner)
            for n, (spec, action) in enumerate(actions):
                who = self.users[spec.owner]
                step(0.3 + 0.03 * n)
                if spec.left == "open":
                    continue
                action = action_transition(action, "start", user=who)
                if spec.left != "in_progress":
                    step(0.4 + 0.03 * n)
                    action_transition(action, "complete", user=who, data={"result": spec.result})
        if target >= 4:
            verified = min(start + dt.timedelta(days=days * 0.5), self.now - dt.timedelta(days=2))
            if target >= 5:  # the window was over before the report
                verified = min(verified, self.now - self.observation - dt.timedelta(days=2))
            self.at(verified)
            problem = problem_transition(problem, "verify", user=owner)
        if target >= 5:
            self.at(problem.observation_ends_at + dt.timedelta(hours=3))
            problem = problem_update(problem, user=owner, changes=story.report)
            problem = problem_transition(problem, "submit_report", user=owner)
        if target >= 6:
            self.at(problem.report_submitted_at + dt.timedelta(hours=20))
            problem = problem_transition(problem, "approve_report", user=self.manager, comment="報告完整，同意結案。")
        self.played.append(problem)
        return problem


# --- the known-error database ---


@dataclass
class KnownErrorStory:
    """A known error recorded from a demo problem (by its title) or on its own, published and maybe retired."""

    title: str
    symptom: str
    workaround: str
    days_ago: float
    problem: str = ""  # the title of the problem it is recorded from
    root_cause: str = ""
    service: str = ""
    ci: str = ""
    published: bool = True
    retired: str = ""  # the reason, when retired


KNOWN_ERRORS = [
    KnownErrorStory("ERP 系統登入逾時", "ERP 登入頁面轉圈約一分鐘後顯示「連線逾時」，週一上午最常見。",
                    "重新啟動 ERP 應用服務（約 2 分鐘），請用戶稍後重新登入；若 10 分鐘內再次發生，通知系統組。", 50,
                    problem="ERP 登入失敗反覆發生"),
    KnownErrorStory("郵件延遲送達（反垃圾郵件掃描服務停止回應）", "外部郵件延遲 30 分鐘以上，郵件佇列持續堆積。",
                    "重新啟動反垃圾郵件掃描服務，佇列約 10 分鐘內消化。", 30, problem="郵件收發延遲反覆出現",
                    retired="掃描引擎已升級至修正版本，問題不再發生。"),
    KnownErrorStory("核心交換機端口反覆斷線", "3F、4F 整層斷網數分鐘後自行恢復，交換機日誌顯示第 24 埠 up/down。",
                    "於 core-sw-01 將第 24 埠的流量切換至備用鏈路（port 23），並通知網絡組更換光模組。", 15,
                    problem="核心交換機端口反覆 up/down"),
    KnownErrorStory("VPN 連線每隔數分鐘中斷", "遠端用戶 VPN 連線後數分鐘被中斷，需反覆重新連線，高峰時段最明顯。",
                    "請用戶不使用時中斷 VPN；高峰時段由網絡組清除閒置會話。", 9, problem="VPN 連線頻繁中斷"),
    KnownErrorStory("3F 影印機卡紙（錯誤碼 J-0021）", "3F 多功能影印機列印時卡紙，面板顯示 J-0021。",
                    "取出紙匣，改用原規格 80 磅紙張重新放紙。", 5, problem="3F 多功能影印機經常卡紙", published=False),
    KnownErrorStory("Outlook 開啟共用信箱時凍結", "Outlook 開啟大型共用信箱時畫面凍結，「沒有回應」數分鐘。",
                    "在帳戶設定中將共用信箱改為「下載共用資料夾」關閉，或改用網頁版郵件。", 20,
                    root_cause="共用信箱快取模式下同步大量郵件項目。", service="email"),
]


def play_known_errors(director: Director) -> list[KnownError]:
    """Record, publish and retire the demo known errors, each at its time."""
    problems = {p.title: p for p in Problem.objects.filter(title__in=[k.problem for k in KNOWN_ERRORS if k.problem])}
    played = []
    for story in KNOWN_ERRORS:
        moment = director.now - dt.timedelta(days=story.days_ago)
        director.at(moment)
        data = {"title": story.title, "symptom": story.symptom, "workaround": story.workaround}
        if story.problem:
            data["problem"] = problems[story.problem]
        if story.root_cause:
            data["root_cause"] = story.root_cause
        if story.service:
            data["service"] = director.services.get(story.service)
        if story.ci:
            data["configuration_item"] = director.cis.get(story.ci)
        known_error = known_error_create(user=director.users["sysadmin"], data=data)
        if story.published:
            director.at(moment + dt.timedelta(hours=4))
            known_error = known_error_transition(known_error, "publish", user=director.manager)
        if story.retired:
            director.at(moment + dt.timedelta(days=story.days_ago / 2))
            known_error = known_error_transition(known_error, "retire", user=director.manager, comment=story.retired)
        played.append(known_error)
    return played


def seed(*, stdout: TextIO) -> None:
    """Load the demo problems once: skipped when the database already holds problems."""
    if Problem.objects.exists():
        stdout.write("Demo problems: skipped (problems already exist).")
        return
    began = time.monotonic()
    with demo_writes() as (clock, now):
        director = Director(clock, now)
        for story in STORIES:
            director.play(story)
        known = play_known_errors(director)
        proposed = recurring_printer(director)
    states = Problem.objects.values("state").distinct().count()
    stdout.write(f"Demo problems: {len(director.played)} created in {states} states "
                 f"and {len(known)} known errors in {time.monotonic() - began:.1f} s; "
                 f"{proposed} candidate(s) proposed.")



# --- a recurring fault proposed as a candidate ---------------------------------------------------------------

# The printers of the finance floor, three times in a week: proposed by the recurring-incident check, undecided.
RECURRING = [("財務部印表機佇列卡住，無法列印憑證", 6.2), ("財務部印表機再次卡單，列印工作全部停住", 3.5),
             ("財務部印表機佇列又卡住，月結報表印不出來", 0.8)]


def recurring_printer(director: Director) -> int:
    """Three desktop incidents on the printing service within a week, reported by the duty officer at their times,
    and the recurring-incident check run: the candidate waits for the problem manager. Returns how many candidates
    were proposed."""
    from incidents.models import Category
    from incidents.services import incident_report
    from problems.recurrence import candidates_propose

    duty = User.objects.filter(username="duty").first()
    service, category = director.services.get("desktop-support"), Category.objects.filter(code="desktop").first()
    if duty is None or service is None or category is None:
        return 0
    for title, days_ago in RECURRING:
        moment = director.now - dt.timedelta(days=days_ago)
        director.at(moment)
        incident_report(recorder=duty, data={
            "title": title, "description": "印表機顯示佇列錯誤，重新啟動列印服務後暫時恢復。",
            "occurred_at": moment - dt.timedelta(minutes=10), "impact_scope": "財務部 3 樓",
            "channel": "phone", "caller_name": "財務部 陳小姐", "service": service, "category": category})
    director.at(director.now - dt.timedelta(minutes=10))
    return len(candidates_propose())
