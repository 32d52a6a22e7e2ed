"""The default risk questionnaire, approval rules by risk level, and role permissions for changes."""

from django.db import migrations

from opscenter.core import roles
from opscenter.core.roles import grant_role_permissions

# (question, 問題, [(answer, 答案, weight), …])
QUESTIONS = [
    ("How many users does the change affect?", "變更影響多少用戶？",
     [("One team or fewer", "一個團隊或更少", 0), ("One department", "一個部門", 2),
      ("Several departments", "多個部門", 4), ("The whole organisation", "整個組織", 6)]),
    ("Will the service be interrupted?", "服務是否會中斷？",
     [("No interruption", "不中斷", 0), ("Degraded for a short time", "短時間性能下降", 2),
      ("Interrupted inside the maintenance window", "在維護時段內中斷", 3),
      ("Interrupted during business hours", "在業務時間內中斷", 6)]),
    ("Has this change been done before here?", "此類變更以前是否做過？",
     [("Often, with a written procedure", "經常做，有書面程序", 0), ("Once or twice", "做過一兩次", 2),
      ("Never", "從未做過", 4)]),
    ("Was it tested in a test environment?", "是否已在測試環境測試？",
     [("Yes, fully", "是，完整測試", 0), ("Partly", "部分測試", 2), ("No", "否", 4)]),
    ("How hard is it to undo?", "回退難度如何？",
     [("Minutes, automated", "數分鐘，自動回退", 0), ("Within the window, by hand", "在時段內手動回退", 2),
      ("Hard or impossible", "困難或無法回退", 5)]),
]
# risk level → (from score, approval mode, approvals required)
RULES = [("low", 0, "approver", 1), ("medium", 6, "approver", 1), ("high", 12, "joint", 1),
         ("major", 18, "joint", 1)]

VIEW = [f"changes.view_{m}" for m in ("change", "changetemplate", "freezewindow", "maintenancewindow",
                                        "changevote", "changeopinion", "changestep", "changereview")]
STAFF = [*VIEW, "changes.add_change", "changes.change_change", "changes.add_changetemplate"]
PERMISSIONS = {
    roles.SUPERVISOR: [
        *STAFF, "changes.change_changetemplate", "changes.add_changereview",
        *[f"changes.{verb}_{m}" for m in ("freezewindow", "maintenancewindow", "riskquestion", "riskoption",
                                          "approvalrule") for verb in ("add", "change", "view", "delete")],
    ],
    roles.AUDITOR: [*VIEW, "changes.view_riskquestion", "changes.view_approvalrule"],
    roles.DEPARTMENT_USER: ["changes.view_change", "changes.add_change"],
    **{role: STAFF for role in (*roles.ENGINEERS, roles.DUTY_OFFICER, roles.PROBLEM_MANAGER, roles.CHANGE_APPROVER,
                                roles.CAB_MEMBER, roles.RELEASE_MANAGER)},
}


def create_defaults(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    RiskQuestion = apps.get_model("changes", "RiskQuestion")
    RiskOption = apps.get_model("changes", "RiskOption")
    ApprovalRule = apps.get_model("changes", "ApprovalRule")
    if not RiskQuestion.objects.exists():
        for order, (text, text_zh, answers) in enumerate(QUESTIONS, start=1):
            question = RiskQuestion.objects.create(text=text, text_zh_hant=text_zh, ordering=order)
            for position, (label, label_zh, weight) in enumerate(answers, start=1):
                RiskOption.objects.create(question=question, label=label, label_zh_hant=label_zh, weight=weight,
                                          ordering=position)
    for level, score, mode, required in RULES:
        ApprovalRule.objects.get_or_create(risk_level=level, defaults={
            "min_score": score, "mode": mode, "approvals_required": required})
    grant_role_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial"), ("core", "0003_feedtoken"), ("incidents", "0002_defaults")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
