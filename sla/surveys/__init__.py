"""Satisfaction (用戶滿意度調查) within the sla app: surveys on resolved incidents, follow-ups of low scores and
periodic questionnaire campaigns, with the rooms of an app (models, services, selectors, api, admin, views,
forms, urls, receivers, tasks, tests)."""
