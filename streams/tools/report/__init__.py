"""``yujing report``: the daily report for leaders, from the topics."""
