"""Monitoring returns: schedules, reminders, sections, review, payments against returns, the portfolio."""
