from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def execute_sql_flush(self, sql_list: list[str]) -> None:
        """The application's role may not empty the tables, nor may anyone the event log:
        the flush runs as the tables' owner (a superuser in the test cluster), with the
        triggers off for that one session."""
        owner = self.connection.settings_dict.get("OWNER")
        if not owner:
            super().execute_sql_flush(sql_list)
            return
        params = {
            **self.connection.get_connection_params(),
            "user": owner["USER"],
            "password": owner["PASSWORD"],
        }
        with self.connection.Database.connect(**params) as flusher, flusher.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            for sql in sql_list:
                cursor.execute(sql)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
